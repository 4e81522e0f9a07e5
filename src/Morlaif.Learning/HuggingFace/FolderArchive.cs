using System.Formats.Tar;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// A flat folder (a PEFT adapter, a preference model) as one tar, so it travels as one content-addressed artifact.
/// Packing is deterministic (names sorted, fixed times and modes): the same files give the same bytes, hence the same
/// hash. Unpacking accepts plain file names only, never a path, so an archive cannot write outside its folder.
/// </summary>
public static class FolderArchive
{
    public static byte[] Pack(string folder)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
            foreach (var path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
            {
                using var data = File.OpenRead(path);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, Path.GetFileName(path))
                {
                    DataStream = data,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                });
            }
        return buffer.ToArray();
    }

    /// <summary>Writes the archive's files into <paramref name="folder"/> (created if needed); returns their names.</summary>
    public static List<string> Unpack(byte[] archive, string folder)
    {
        Directory.CreateDirectory(folder);
        var names = new List<string>();
        using var reader = new TarReader(new MemoryStream(archive));
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                || entry.Name != Path.GetFileName(entry.Name) || entry.Name is "" or "." or "..")
                throw new InvalidDataException($"folder archive entry '{entry.Name}' is not a plain file name");
            using var target = File.Create(Path.Combine(folder, entry.Name));
            entry.DataStream?.CopyTo(target);
            names.Add(entry.Name);
        }
        return names;
    }
}
