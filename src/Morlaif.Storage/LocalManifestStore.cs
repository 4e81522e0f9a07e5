namespace Morlaif.Storage;

/// <summary>Manifests as files; an exclusive lock file serialises read-change-write across processes.</summary>
public sealed class LocalManifestStore(string root) : IManifestStore
{
    private readonly string _root = Path.GetFullPath(root);

    public async Task<bool> CreateAsync(RunManifest manifest, CancellationToken cancel = default)
    {
        var path = PathOf(manifest.RunId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var _ = await LockAsync(path, cancel);
        if (File.Exists(path)) return false;
        await WriteAsync(path, manifest, cancel);
        return true;
    }

    public async Task<RunManifest?> ReadAsync(string runId, CancellationToken cancel = default)
    {
        var path = PathOf(runId);
        return File.Exists(path) ? RunManifest.FromJson(await File.ReadAllBytesAsync(path, cancel), path) : null;
    }

    public async Task<(RunManifest Manifest, bool Changed)> UpdateAsync(string runId, Func<RunManifest, bool> change, CancellationToken cancel = default)
    {
        var path = PathOf(runId);
        if (!File.Exists(path)) throw new RunNotFoundException(runId);
        await using var _ = await LockAsync(path, cancel);
        var manifest = RunManifest.FromJson(await File.ReadAllBytesAsync(path, cancel), path);
        if (!change(manifest)) return (manifest, false);
        await WriteAsync(path, manifest, cancel);
        return (manifest, true);
    }

    public async IAsyncEnumerable<string> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel = default)
    {
        var runs = Path.Combine(_root, ArtifactNames.Container, "runs");
        if (!Directory.Exists(runs)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(runs))
        {
            cancel.ThrowIfCancellationRequested();
            if (File.Exists(Path.Combine(dir, "manifest.json"))) yield return Path.GetFileName(dir);
        }
        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<RunManifest>> NewestAsync(int limit, CancellationToken cancel = default) =>
        ManifestListing.NewestAsync(ListAsync(cancel), limit, HeadAsync, ReadAsync, parallel: 1, cancel);

    private async Task<ManifestListing.Head?> HeadAsync(string runId, CancellationToken cancel)
    {
        try
        {
            // A writer replaces the file (write, then move): an open handle reads one version whole.
            await using var file = new FileStream(PathOf(runId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[(int)Math.Min(file.Length, ManifestListing.HeadBytes)];
            await file.ReadExactlyAsync(buffer, cancel);
            return new(buffer, file.Length <= ManifestListing.HeadBytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string runId, CancellationToken cancel = default)
    {
        var path = PathOf(runId);
        if (!File.Exists(path)) return;
        await using (await LockAsync(path, cancel)) File.Delete(path);
    }

    private static async Task WriteAsync(string path, RunManifest manifest, CancellationToken cancel)
    {
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(tmp, manifest.ToJson(), cancel);
        File.Move(tmp, path, overwrite: true);
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancel)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 2000)
            {
                await Task.Delay(5, cancel);
            }
        }
    }

    private string PathOf(string runId) => Path.Combine(_root, ArtifactNames.Container, ArtifactNames.ManifestName(runId));
}
