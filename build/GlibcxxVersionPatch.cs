// Marks TorchSharp's unsatisfiable GLIBCXX_3.4.32 version need as weak so that
// libLibTorchSharp.so loads on hosts whose libstdc++ predates GCC 13 (Debian 12).
// See README.md, "TorchSharp on Debian 12".
//
// This one file serves two compilers, hence its constraints:
//  * MSBuild's RoslynCodeTaskFactory compiles it against netstandard 2.0 reference
//    assemblies with no nullable context and no project settings: BCL-only, no
//    records/init/Span/BinaryPrimitives, and `#nullable enable` set here explicitly.
//  * RoslynCodeTaskFactory accepts a single Source file, so the MSBuild task class
//    lives here too; projects that link this file without Microsoft.Build (the tests)
//    define MORLAIF_NO_MSBUILD to drop it.
#nullable enable

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Morlaif.Build
{
    /// <summary>Outcome of <see cref="GlibcxxVersionPatch.Patch"/>.</summary>
    public enum PatchResult
    {
        /// <summary>The library has no need for that version; nothing to do.</summary>
        NotNeeded,

        /// <summary>The version need is already weak (an earlier build patched it).</summary>
        AlreadyWeak,

        /// <summary>The weak flag was set by this call.</summary>
        Patched,
    }

    /// <summary>One Vernaux entry of an ELF file's <c>.gnu.version_r</c> section.</summary>
    public sealed class VersionNeed
    {
        internal VersionNeed(string library, string version, ushort index, ushort flags, long flagsOffset, IReadOnlyList<string> symbols)
        {
            Library = library;
            Version = version;
            Index = index;
            Flags = flags;
            FlagsOffset = flagsOffset;
            Symbols = symbols;
        }

        /// <summary>The needed library (vn_file), e.g. <c>libstdc++.so.6</c>.</summary>
        public string Library { get; }

        /// <summary>The version name (vna_name).</summary>
        public string Version { get; }

        /// <summary>The version index that <c>.gnu.version</c> entries refer to (vna_other).</summary>
        public ushort Index { get; }

        /// <summary>vna_flags.</summary>
        public ushort Flags { get; }

        /// <summary>File offset of the 2-byte vna_flags field.</summary>
        public long FlagsOffset { get; }

        /// <summary>Names of the dynamic symbols bound to this version.</summary>
        public IReadOnlyList<string> Symbols { get; }

        /// <summary>Whether VER_FLG_WEAK is set.</summary>
        public bool IsWeak => (Flags & GlibcxxVersionPatch.VerFlagWeak) != 0;
    }

    public static class GlibcxxVersionPatch
    {
        /// <summary>VER_FLG_WEAK: glibc's loader only warns (under LD_WARN/ldd) when a weak version is missing.</summary>
        public const ushort VerFlagWeak = 0x2;

        /// <summary>The libstdc++ version of GCC 13.2, which TorchSharp's native library needs but does not use.</summary>
        public const string DefaultVersion = "GLIBCXX_3.4.32";

        /// <summary>
        /// The only symbol GCC 13 binds to <see cref="DefaultVersion"/> in code that merely includes
        /// &lt;iostream&gt;: a marker that pins the iostream initialiser, never called or relocated.
        /// </summary>
        public const string DefaultAllowedSymbol = "_ZSt21ios_base_library_initv";

        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        private static readonly string[] LibstdcxxCandidates =
        {
            "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6",
            "/lib64/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib/libstdc++.so.6",
            "/lib/libstdc++.so.6",
        };

        /// <summary>The first existing libstdc++.so.6 among the usual multiarch/lib64 locations, or null.</summary>
        public static string? FindHostLibstdcxx()
        {
            foreach (string candidate in LibstdcxxCandidates)
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        /// <summary>
        /// Whether the library at <paramref name="libstdcxxPath"/> defines <paramref name="version"/>.
        /// Reads the version definitions (<c>.gnu.version_d</c>) rather than grepping bytes, so that
        /// "GLIBCXX_3.4.3" is not mistaken for a prefix of "GLIBCXX_3.4.32".
        /// </summary>
        public static bool HostHasVersion(string libstdcxxPath, string version)
        {
            using (var elf = ElfReader.Open(libstdcxxPath))
            {
                foreach (ElfSection verdef in elf.SectionsOfType(ShtGnuVerdef))
                {
                    byte[] data = elf.Read(verdef);
                    byte[] strtab = elf.Read(elf.Section(verdef.Link));
                    uint offset = 0;
                    for (uint i = 0; i < verdef.Info && offset + 20 <= data.Length; i++)
                    {
                        // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16,
                        // vd_hash u32, vd_aux u32, vd_next u32. The first Verdaux names the version.
                        ushort count = ElfReader.U16(data, offset + 6);
                        uint aux = ElfReader.U32(data, offset + 12);
                        if (count > 0 && offset + aux + 8 <= data.Length)
                        {
                            uint name = ElfReader.U32(data, offset + aux);
                            if (ElfReader.CString(strtab, name, elf.Path) == version)
                            {
                                return true;
                            }
                        }

                        uint next = ElfReader.U32(data, offset + 16);
                        if (next == 0)
                        {
                            break;
                        }

                        offset += next;
                    }
                }
            }

            return false;
        }

        /// <summary>All Vernaux entries named <paramref name="version"/>, with the dynamic symbols bound to each.</summary>
        public static IReadOnlyList<VersionNeed> FindVersionNeeds(string soPath, string version)
        {
            using (var elf = ElfReader.Open(soPath))
            {
                return FindVersionNeeds(elf, version);
            }
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the <paramref name="version"/> need of <paramref name="soPath"/>, provided
        /// that no dynamic symbol other than <paramref name="allowedSymbol"/> is bound to that version.
        /// </summary>
        /// <remarks>
        /// The weak flag only tells the loader not to fail when the version is missing; any symbol
        /// bound to it would still fail to resolve. GCC 13 emits the allowed marker symbol from
        /// &lt;iostream&gt; as a bare reference that no relocation uses, so with it as the sole user the
        /// need carries no runtime dependency. Anything else means real GCC 13 code: refuse.
        /// </remarks>
        /// <exception cref="InvalidOperationException">Not an ELF64 little-endian file, malformed, or another symbol uses the version.</exception>
        public static PatchResult Patch(string soPath, string version = DefaultVersion, string allowedSymbol = DefaultAllowedSymbol)
        {
            IReadOnlyList<VersionNeed> needs;
            using (var elf = ElfReader.Open(soPath))
            {
                needs = FindVersionNeeds(elf, version);
            }

            if (needs.Count == 0)
            {
                return PatchResult.NotNeeded;
            }

            var toPatch = new List<VersionNeed>();
            foreach (VersionNeed need in needs)
            {
                if (need.IsWeak)
                {
                    continue;
                }

                var offending = new List<string>();
                foreach (string symbol in need.Symbols)
                {
                    if (symbol != allowedSymbol)
                    {
                        offending.Add(symbol);
                    }
                }

                if (offending.Count > 0)
                {
                    throw new InvalidOperationException(
                        $"Refusing to mark {need.Library} version {version} weak in '{soPath}': " +
                        $"besides '{allowedSymbol}', {offending.Count} dynamic symbol(s) need it and would fail to resolve " +
                        $"on a host without it: {string.Join(", ", offending)}. Use a host whose libstdc++ provides {version}.");
                }

                toPatch.Add(need);
            }

            if (toPatch.Count == 0)
            {
                return PatchResult.AlreadyWeak;
            }

            WriteFlags(soPath, toPatch);
            return PatchResult.Patched;
        }

        private static void WriteFlags(string soPath, List<VersionNeed> needs)
        {
            // Write a sibling copy and rename it over the original instead of writing in place:
            // the output file may be a hard or symbolic link into the NuGet cache
            // (CreateHardLinksForCopyLocalIfPossible), which must stay pristine, and a process
            // that has the library mapped must not see its pages change underneath it.
            string fullPath = Path.GetFullPath(soPath);
            string tempPath = fullPath + ".glibcxx-weak.tmp";
            DateTime lastWriteUtc = File.GetLastWriteTimeUtc(fullPath);
            try
            {
                File.Copy(fullPath, tempPath, overwrite: true);

                // A read-only original (some package caches) must stay read-only, but the copy has to be written once.
                FileAttributes attributes = File.GetAttributes(tempPath);
                if ((attributes & FileAttributes.ReadOnly) != 0)
                {
                    File.SetAttributes(tempPath, attributes & ~FileAttributes.ReadOnly);
                }

                using (var stream = new FileStream(tempPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    foreach (VersionNeed need in needs)
                    {
                        ushort flags = (ushort)(need.Flags | VerFlagWeak);
                        stream.Position = need.FlagsOffset;
                        stream.Write(new[] { (byte)flags, (byte)(flags >> 8) }, 0, 2);
                    }
                }

                // Keep the original timestamp: MSBuild's Copy (SkipUnchangedFiles) compares size and
                // time with the package file, so the patched copy is then left alone by later builds
                // rather than being overwritten and patched again every time.
                File.SetLastWriteTimeUtc(tempPath, lastWriteUtc);
                File.SetAttributes(tempPath, attributes);
                File.Replace(tempPath, fullPath, destinationBackupFileName: null);
            }
            finally
            {
                if (File.Exists(tempPath))
                {
                    File.Delete(tempPath);
                }
            }
        }

        private static IReadOnlyList<VersionNeed> FindVersionNeeds(ElfReader elf, string version)
        {
            var needs = new List<VersionNeed>();
            foreach (ElfSection verneed in elf.SectionsOfType(ShtGnuVerneed))
            {
                byte[] data = elf.Read(verneed);
                byte[] strtab = elf.Read(elf.Section(verneed.Link));
                uint offset = 0;

                // sh_info holds the number of Verneed entries; it bounds the walk against cycles.
                for (uint i = 0; i < verneed.Info; i++)
                {
                    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                    ElfReader.Require(offset + 16 <= data.Length, elf.Path, "Verneed entry outside .gnu.version_r");
                    ushort auxCount = ElfReader.U16(data, offset + 2);
                    string library = ElfReader.CString(strtab, ElfReader.U32(data, offset + 4), elf.Path);
                    uint auxOffset = offset + ElfReader.U32(data, offset + 8);
                    for (uint j = 0; j < auxCount; j++)
                    {
                        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                        ElfReader.Require(auxOffset + 16 <= data.Length, elf.Path, "Vernaux entry outside .gnu.version_r");
                        string name = ElfReader.CString(strtab, ElfReader.U32(data, auxOffset + 8), elf.Path);
                        if (name == version)
                        {
                            ushort flags = ElfReader.U16(data, auxOffset + 4);
                            ushort index = (ushort)(ElfReader.U16(data, auxOffset + 6) & 0x7fff);
                            long flagsOffset = (long)verneed.Offset + auxOffset + 4;
                            needs.Add(new VersionNeed(library, name, index, flags, flagsOffset, SymbolsWithVersion(elf, index)));
                        }

                        uint nextAux = ElfReader.U32(data, auxOffset + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        auxOffset += nextAux;
                    }

                    uint next = ElfReader.U32(data, offset + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    offset += next;
                }
            }

            return needs;
        }

        private static IReadOnlyList<string> SymbolsWithVersion(ElfReader elf, ushort index)
        {
            var symbols = new List<string>();
            ElfSection? versym = null;
            foreach (ElfSection section in elf.SectionsOfType(ShtGnuVersym))
            {
                versym = section;
            }

            if (versym == null)
            {
                // Without a versym table no symbol can be bound to any version.
                return symbols;
            }

            // .gnu.version runs parallel to the dynamic symbol table it links to.
            ElfSection dynsym = elf.Section(versym.Link);
            ElfReader.Require(dynsym.Type == ShtDynsym, elf.Path, ".gnu.version does not link to .dynsym");
            byte[] versyms = elf.Read(versym);
            byte[] syms = elf.Read(dynsym);
            byte[] strtab = elf.Read(elf.Section(dynsym.Link));
            const int SymSize = 24;
            int count = Math.Min(syms.Length / SymSize, versyms.Length / 2);
            for (int i = 1; i < count; i++)
            {
                // Bit 15 is the "hidden" flag, not part of the index.
                if ((ElfReader.U16(versyms, (uint)(i * 2)) & 0x7fff) == index)
                {
                    symbols.Add(ElfReader.CString(strtab, ElfReader.U32(syms, (uint)(i * SymSize)), elf.Path));
                }
            }

            return symbols;
        }
    }

    internal sealed class ElfSection
    {
        public ElfSection(uint type, ulong offset, ulong size, uint link, uint info)
        {
            Type = type;
            Offset = offset;
            Size = size;
            Link = link;
            Info = info;
        }

        public uint Type { get; }
        public ulong Offset { get; }
        public ulong Size { get; }
        public uint Link { get; }
        public uint Info { get; }
    }

    /// <summary>Just enough of an ELF64 little-endian reader to walk section headers.</summary>
    internal sealed class ElfReader : IDisposable
    {
        private const uint ShtNobits = 8;

        private readonly FileStream _stream;
        private readonly List<ElfSection> _sections = new List<ElfSection>();

        private ElfReader(string path, FileStream stream)
        {
            Path = path;
            _stream = stream;
        }

        public string Path { get; }

        public static ElfReader Open(string path)
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var reader = new ElfReader(path, stream);
            try
            {
                reader.ReadSectionHeaders();
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        public void Dispose() => _stream.Dispose();

        public ElfSection Section(uint index)
        {
            Require(index < _sections.Count, Path, $"section index {index} out of range");
            return _sections[(int)index];
        }

        public IEnumerable<ElfSection> SectionsOfType(uint type)
        {
            foreach (ElfSection section in _sections)
            {
                if (section.Type == type)
                {
                    yield return section;
                }
            }
        }

        public byte[] Read(ElfSection section)
        {
            // A SHT_NOBITS section occupies no file bytes, so reading it would return unrelated data.
            Require(section.Type != ShtNobits, Path, "expected a section with file contents");
            return ReadAt(section.Offset, section.Size);
        }

        private void ReadSectionHeaders()
        {
            Require(_stream.Length >= 64, Path, "too short to be an ELF file");
            byte[] header = ReadAt(0, 64);
            Require(header[0] == 0x7f && header[1] == (byte)'E' && header[2] == (byte)'L' && header[3] == (byte)'F', Path, "not an ELF file");
            Require(header[4] == 2, Path, "not a 64-bit (ELFCLASS64) ELF file");
            Require(header[5] == 1, Path, "not a little-endian (ELFDATA2LSB) ELF file");

            ulong shoff = U64(header, 0x28);
            ushort shentsize = U16(header, 0x3a);
            ulong shnum = U16(header, 0x3c);
            Require(shoff != 0, Path, "no section headers (stripped of them?)");
            Require(shentsize >= 64, Path, "unexpected section header size");
            if (shnum == 0)
            {
                // Extended numbering: with 0xff00 or more sections the count lives in section 0's sh_size.
                shnum = U64(ReadAt(shoff, 64), 32);
            }

            Require(shnum <= 0x100000, Path, "implausible section count");
            byte[] table = ReadAt(shoff, shnum * shentsize);
            for (uint i = 0; i < shnum; i++)
            {
                uint at = i * shentsize;
                _sections.Add(new ElfSection(
                    type: U32(table, at + 4),
                    offset: U64(table, at + 24),
                    size: U64(table, at + 32),
                    link: U32(table, at + 40),
                    info: U32(table, at + 44)));
            }
        }

        private byte[] ReadAt(ulong offset, ulong size)
        {
            ulong length = (ulong)_stream.Length;
            Require(offset <= length && size <= length - offset && size <= int.MaxValue, Path, "data extends past end of file");
            var buffer = new byte[size];
            _stream.Position = (long)offset;
            int read = 0;
            while (read < buffer.Length)
            {
                int n = _stream.Read(buffer, read, buffer.Length - read);
                Require(n > 0, Path, "unexpected end of file");
                read += n;
            }

            return buffer;
        }

        // Manual little-endian decoding: BinaryPrimitives is not in netstandard 2.0, and the
        // file's byte order, not the build host's, is what matters.
        public static ushort U16(byte[] b, uint o)
        {
            Require(b, o, 2);
            return (ushort)(b[o] | b[o + 1] << 8);
        }

        public static uint U32(byte[] b, uint o)
        {
            Require(b, o, 4);
            return b[o] | (uint)b[o + 1] << 8 | (uint)b[o + 2] << 16 | (uint)b[o + 3] << 24;
        }

        public static ulong U64(byte[] b, uint o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

        public static string CString(byte[] strtab, uint offset, string path)
        {
            Require(offset < strtab.Length, path, "string offset outside string table");
            int end = Array.IndexOf(strtab, (byte)0, (int)offset);
            Require(end >= 0, path, "unterminated string in string table");
            return Encoding.UTF8.GetString(strtab, (int)offset, end - (int)offset);
        }

        public static void Require(bool condition, string path, string problem)
        {
            if (!condition)
            {
                throw new InvalidOperationException($"'{path}' is not a usable ELF64 little-endian file: {problem}.");
            }
        }

        private static void Require(byte[] b, uint o, uint size)
        {
            if ((ulong)o + size > (ulong)b.Length)
            {
                throw new InvalidOperationException("ELF structure extends past the end of its section.");
            }
        }
    }

#if !MORLAIF_NO_MSBUILD
    /// <summary>
    /// MSBuild task wrapper, compiled only by RoslynCodeTaskFactory (see Directory.Build.targets).
    /// </summary>
    public sealed class PatchGlibcxxVersionNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public override bool Execute()
        {
            const string Version = GlibcxxVersionPatch.DefaultVersion;
            const string AllowedSymbol = GlibcxxVersionPatch.DefaultAllowedSymbol;
            string? libstdcxx = GlibcxxVersionPatch.FindHostLibstdcxx();
            if (libstdcxx == null)
            {
                // No system libstdc++ in the usual places (e.g. a musl or unusual layout): there is
                // nothing to compare against, so leave the files exactly as shipped.
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"No host libstdc++.so.6 found; not touching {Version} needs.");
                return true;
            }

            try
            {
                if (GlibcxxVersionPatch.HostHasVersion(libstdcxx, Version))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{libstdcxx} provides {Version}; libLibTorchSharp.so needs no patch.");
                    return true;
                }
            }
            catch (InvalidOperationException e)
            {
                Log.LogWarning($"Could not read version definitions of {libstdcxx} ({e.Message}); not touching {Version} needs.");
                return true;
            }

            foreach (Microsoft.Build.Framework.ITaskItem item in Files)
            {
                string path = item.GetMetadata("FullPath");
                try
                {
                    PatchResult result = GlibcxxVersionPatch.Patch(path, Version, AllowedSymbol);
                    if (result == PatchResult.Patched)
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                            $"Marked {Version} need weak in {path} ({libstdcxx} lacks it; only {AllowedSymbol} used it).");
                    }
                    else
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{path}: {result}.");
                    }
                }
                catch (Exception e) when (e is InvalidOperationException || e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError($"PatchGlibcxxVersionNeed: {e.Message}");
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
#endif
}
