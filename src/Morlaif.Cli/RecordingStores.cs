using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Cli;

/// <summary>The store, remembering what this command put, so a start that fails half-way can take it back.</summary>
internal sealed class RecordingArtifactStore(IArtifactStore inner) : IArtifactStore
{
    private readonly List<ArtifactReference> _puts = [];

    public IArtifactStore Inner => inner;

    public IReadOnlyList<ArtifactReference> Puts => _puts;

    public async Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken cancel = default)
    {
        var reference = await inner.PutAsync(runId, kind, content, cancel);
        _puts.Add(reference);
        return reference;
    }

    public Task<byte[]> GetAsync(ArtifactReference reference, CancellationToken cancel = default) => inner.GetAsync(reference, cancel);

    public Task DeleteAsync(ArtifactReference reference, CancellationToken cancel = default) => inner.DeleteAsync(reference, cancel);

    public Task PutCachedAsync(string scope, string key, byte[] content, CancellationToken cancel = default) => inner.PutCachedAsync(scope, key, content, cancel);

    public Task<byte[]?> GetCachedAsync(string scope, string key, CancellationToken cancel = default) => inner.GetCachedAsync(scope, key, cancel);
}

/// <summary>The manifest store, remembering whether this command created a manifest or found one there already.</summary>
internal sealed class RecordingManifestStore(IManifestStore inner) : IManifestStore
{
    public IManifestStore Inner => inner;

    /// <summary>The run whose manifest this command created.</summary>
    public string? Created { get; private set; }

    /// <summary>The run whose manifest existed already.</summary>
    public string? Refused { get; private set; }

    public async Task<bool> CreateAsync(RunManifest manifest, CancellationToken cancel = default)
    {
        var created = await inner.CreateAsync(manifest, cancel);
        if (created) Created = manifest.RunId;
        else Refused = manifest.RunId;
        return created;
    }

    public Task<RunManifest?> ReadAsync(string runId, CancellationToken cancel = default) => inner.ReadAsync(runId, cancel);

    public Task<(RunManifest Manifest, bool Changed)> UpdateAsync(string runId, Func<RunManifest, bool> change, CancellationToken cancel = default) =>
        inner.UpdateAsync(runId, change, cancel);

    public Task DeleteAsync(string runId, CancellationToken cancel = default) => inner.DeleteAsync(runId, cancel);

    public IAsyncEnumerable<string> ListAsync(CancellationToken cancel = default) => inner.ListAsync(cancel);
}
