using Morlaif.Build;
using Xunit;

namespace Morlaif.Learning.Tests.Build;

/// <summary>
/// Exercises the build-time GLIBCXX_3.4.32 patch on copies of the real libLibTorchSharp.so from the
/// test output. The build may already have weakened that copy (on hosts like Debian 12), so each test
/// first clears the flag in its own copy to start from the state NuGet ships.
/// </summary>
public sealed class GlibcxxVersionPatchTests : IDisposable
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Marker = "_ZSt21ios_base_library_initv";

    private readonly string _dir = Directory.CreateTempSubdirectory("glibcxx-patch-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Patch_MarksOnlyTheFlagWeak_AndIsIdempotent()
    {
        string so = ShippedCopy();
        byte[] before = File.ReadAllBytes(so);
        DateTime mtime = File.GetLastWriteTimeUtc(so);
        VersionNeed need = Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(so, Version));
        Assert.False(need.IsWeak);
        Assert.Equal(new[] { Marker }, need.Symbols);

        Assert.Equal(PatchResult.Patched, GlibcxxVersionPatch.Patch(so));

        Assert.True(Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(so, Version)).IsWeak);
        byte[] after = File.ReadAllBytes(so);
        Assert.Equal(before.Length, after.Length);
        long changed = Assert.Single(Enumerable.Range(0, before.Length), i => before[i] != after[i]);
        Assert.Equal(need.FlagsOffset, changed);
        // MSBuild's incremental Copy compares timestamps; a new one would make it recopy the original.
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(so));

        Assert.Equal(PatchResult.AlreadyWeak, GlibcxxVersionPatch.Patch(so));
        Assert.Equal(after, File.ReadAllBytes(so));
    }

    [Fact]
    public void Patch_WithoutThatVersionNeed_IsNotNeeded()
    {
        string so = ShippedCopy();
        byte[] before = File.ReadAllBytes(so);

        Assert.Equal(PatchResult.NotNeeded, GlibcxxVersionPatch.Patch(so, version: "GLIBCXX_9.9.99"));

        Assert.Equal(before, File.ReadAllBytes(so));
    }

    [Fact]
    public void Patch_ThroughSymlink_ReplacesTheLinkAndLeavesItsTargetAlone()
    {
        // Stands in for an output file that links into the NuGet cache.
        string target = ShippedCopy();
        byte[] targetBytes = File.ReadAllBytes(target);
        string link = Path.Combine(_dir, "linked.so");
        File.CreateSymbolicLink(link, target);

        Assert.Equal(PatchResult.Patched, GlibcxxVersionPatch.Patch(link));

        Assert.Equal(targetBytes, File.ReadAllBytes(target));
        Assert.Null(new FileInfo(link).LinkTarget);
        Assert.True(Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(link, Version)).IsWeak);
    }

    [Fact]
    public void Patch_ReadOnlyFile_IsPatchedAndStaysReadOnly()
    {
        string so = ShippedCopy();
        File.SetAttributes(so, File.GetAttributes(so) | FileAttributes.ReadOnly);

        Assert.Equal(PatchResult.Patched, GlibcxxVersionPatch.Patch(so));

        Assert.True(Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(so, Version)).IsWeak);
        Assert.True(File.GetAttributes(so).HasFlag(FileAttributes.ReadOnly));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Patch_RefusesWhenAnotherSymbolUsesTheVersion_AndLeavesFileUnchanged()
    {
        string so = ShippedCopy();
        ushort index = Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(so, Version)).Index;
        DynamicSymbol victim = DynamicSymbol.ReadAll(so)
            .First(s => s.Name.Length > 0 && s.Name != Marker && (s.Version & 0x7fff) > 1 && (s.Version & 0x7fff) != index);
        WriteUInt16(so, victim.VersymOffset, index);
        byte[] before = File.ReadAllBytes(so);

        var error = Assert.Throws<InvalidOperationException>(() => GlibcxxVersionPatch.Patch(so));

        Assert.Contains(so, error.Message, StringComparison.Ordinal);
        Assert.Contains(victim.Name, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(so));
        Assert.False(Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(so, Version)).IsWeak);
    }

    [Fact]
    public void Patch_RejectsNonElfInput()
    {
        string text = Path.Combine(_dir, "not-elf.so");
        File.WriteAllText(text, new string('x', 200));

        var error = Assert.Throws<InvalidOperationException>(() => GlibcxxVersionPatch.Patch(text));

        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Contains("not an ELF file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Patch_RejectsElf32AndBigEndianInput()
    {
        string elf32 = ShippedCopy("elf32.so");
        WriteByte(elf32, 4, 1); // EI_CLASS = ELFCLASS32
        string bigEndian = ShippedCopy("big-endian.so");
        WriteByte(bigEndian, 5, 2); // EI_DATA = ELFDATA2MSB

        var classError = Assert.Throws<InvalidOperationException>(() => GlibcxxVersionPatch.Patch(elf32));
        var dataError = Assert.Throws<InvalidOperationException>(() => GlibcxxVersionPatch.Patch(bigEndian));

        Assert.Contains("64-bit", classError.Message, StringComparison.Ordinal);
        Assert.Contains("little-endian", dataError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostHasVersion_FindsDefinedVersionsOnly()
    {
        string? libstdcxx = GlibcxxVersionPatch.FindHostLibstdcxx();
        Assert.NotNull(libstdcxx);

        // GLIBCXX_3.4 is the base version every libstdc++.so.6 defines.
        Assert.True(GlibcxxVersionPatch.HostHasVersion(libstdcxx, "GLIBCXX_3.4"));
        Assert.False(GlibcxxVersionPatch.HostHasVersion(libstdcxx, "GLIBCXX_9.9.99"));
        // Fragments of real version names, which a plain substring search would report.
        Assert.False(GlibcxxVersionPatch.HostHasVersion(libstdcxx, "GLIBCXX_3."));
        Assert.False(GlibcxxVersionPatch.HostHasVersion(libstdcxx, "LIBCXX_3.4"));
    }

    /// <summary>A copy of the output libLibTorchSharp.so with the GLIBCXX_3.4.32 need non-weak again.</summary>
    private string ShippedCopy(string name = "libLibTorchSharp.so")
    {
        string source = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(source), $"TorchSharp's native library is missing from the test output: {source}");
        string copy = Path.Combine(_dir, name);
        File.Copy(source, copy);
        VersionNeed need = Assert.Single(GlibcxxVersionPatch.FindVersionNeeds(copy, Version));
        WriteUInt16(copy, need.FlagsOffset, (ushort)(need.Flags & ~GlibcxxVersionPatch.VerFlagWeak));
        return copy;
    }

    private static void WriteUInt16(string path, long offset, ushort value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write([(byte)value, (byte)(value >> 8)]);
    }

    private static void WriteByte(string path, long offset, byte value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.WriteByte(value);
    }

    /// <summary>
    /// A dynamic symbol with its <c>.gnu.version</c> entry, read independently of the code under test
    /// so that the refusal test can rebind a symbol to another version.
    /// </summary>
    private sealed record DynamicSymbol(string Name, ushort Version, long VersymOffset)
    {
        private const uint ShtGnuVersym = 0x6fffffff;

        public static List<DynamicSymbol> ReadAll(string path)
        {
            byte[] elf = File.ReadAllBytes(path);
            var sections = ReadSections(elf);
            var versym = sections.Single(s => s.Type == ShtGnuVersym);
            var dynsym = sections[(int)versym.Link];
            var dynstr = sections[(int)dynsym.Link];
            var symbols = new List<DynamicSymbol>();
            for (long i = 0; i < dynsym.Size / 24; i++)
            {
                long nameOffset = dynstr.Offset + BitConverter.ToUInt32(elf, (int)(dynsym.Offset + i * 24));
                int end = Array.IndexOf(elf, (byte)0, (int)nameOffset);
                string name = System.Text.Encoding.UTF8.GetString(elf, (int)nameOffset, end - (int)nameOffset);
                long versymOffset = versym.Offset + i * 2;
                symbols.Add(new DynamicSymbol(name, BitConverter.ToUInt16(elf, (int)versymOffset), versymOffset));
            }

            return symbols;
        }

        private static List<(uint Type, long Offset, long Size, uint Link)> ReadSections(byte[] elf)
        {
            Assert.True(BitConverter.IsLittleEndian, "the test reads the little-endian ELF with BitConverter");
            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3a);
            int shnum = BitConverter.ToUInt16(elf, 0x3c);
            return Enumerable.Range(0, shnum)
                .Select(i => (int)(shoff + i * shentsize))
                .Select(at => (
                    BitConverter.ToUInt32(elf, at + 4),
                    BitConverter.ToInt64(elf, at + 24),
                    BitConverter.ToInt64(elf, at + 32),
                    BitConverter.ToUInt32(elf, at + 40)))
                .ToList();
        }
    }
}
