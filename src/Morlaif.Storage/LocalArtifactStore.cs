using Morlaif.Contracts;

namespace Morlaif.Storage;

/// <summary>Artifacts as files under a root folder: the embedded default, with the same semantics as blobs.</summary>
public sealed class LocalArtifactStore(string root) : IArtifactStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public async Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken cancel = default)
    {
        var reference = ArtifactNames.Reference(runId, kind, content);
        var path = PathOf(reference);
        // Already there (or a concurrent writer got there first): same name means same hash, unless damaged.
        return await CreateOnlyAsync(path, content, cancel) ? reference : Existing(reference, path);
    }

    public async Task<byte[]> GetAsync(ArtifactReference reference, CancellationToken cancel = default)
    {
        var path = PathOf(reference);
        if (!File.Exists(path)) throw new ArtifactNotFoundException(reference);
        return ArtifactNames.Verify(reference, await File.ReadAllBytesAsync(path, cancel));
    }

    public Task<bool> ExistsAsync(ArtifactReference reference, CancellationToken cancel = default) => Task.FromResult(File.Exists(PathOf(reference)));

    public Task DeleteAsync(ArtifactReference reference, CancellationToken cancel = default)
    {
        File.Delete(PathOf(reference));
        return Task.CompletedTask;
    }

    public async Task PutCachedAsync(string scope, string key, byte[] content, CancellationToken cancel = default)
    {
        await CreateOnlyAsync(Path.Combine(Root, ArtifactNames.Container, ArtifactNames.CacheName(scope, key)), content, cancel); // the first answer stays
    }

    /// <summary>
    /// Writes aside, then renames into place without overwriting: a reader sees the whole file or none.
    /// False when the file already existed (the existing one is kept).
    /// </summary>
    private static async Task<bool> CreateOnlyAsync(string path, byte[] content, CancellationToken cancel)
    {
        if (File.Exists(path)) return false;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(tmp, content, cancel);
        try
        {
            File.Move(tmp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(tmp);
            return false;
        }
    }

    public async Task<byte[]?> GetCachedAsync(string scope, string key, CancellationToken cancel = default)
    {
        var path = Path.Combine(Root, ArtifactNames.Container, ArtifactNames.CacheName(scope, key));
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancel) : null;
    }

    private static ArtifactReference Existing(ArtifactReference reference, string path)
    {
        ArtifactNames.Verify(reference, File.ReadAllBytes(path)); // same name means same hash, unless the file was damaged
        return reference;
    }

    private string PathOf(ArtifactReference reference) => Path.Combine(Root, reference.Container, ArtifactNames.Check(reference).Name);
}
