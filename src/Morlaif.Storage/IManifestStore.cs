namespace Morlaif.Storage;

/// <summary>Run manifests with optimistic concurrency: every update is read, change, compare-and-swap, retried on conflict.</summary>
public interface IManifestStore
{
    /// <summary>Creates the manifest; false if one already exists for the run (nothing is overwritten).</summary>
    Task<bool> CreateAsync(RunManifest manifest, CancellationToken cancel = default);

    Task<RunManifest?> ReadAsync(string runId, CancellationToken cancel = default);

    /// <summary>
    /// Applies <paramref name="change"/> to the current manifest and stores it if no one else wrote in
    /// between (else reads again and retries). <paramref name="change"/> may run several times and returns
    /// false to leave the manifest as it is. Returns the manifest as stored and whether this call changed it.
    /// </summary>
    Task<(RunManifest Manifest, bool Changed)> UpdateAsync(string runId, Func<RunManifest, bool> change, CancellationToken cancel = default);

    /// <summary>The ids of every run that has a manifest (the supervisor's sweep).</summary>
    IAsyncEnumerable<string> ListAsync(CancellationToken cancel = default);

    /// <summary>
    /// The manifests of the <paramref name="limit"/> newest runs, newest (<see cref="RunManifest.CreatedAt"/>) first:
    /// `morlaif status` without a run id. Bounded: one listing of the run ids, the first bytes of each manifest (where
    /// its creation time is written), and only the chosen manifests read whole (<see cref="ManifestListing"/>).
    /// </summary>
    Task<IReadOnlyList<RunManifest>> NewestAsync(int limit, CancellationToken cancel = default);

    /// <summary>
    /// Removes the manifest of a run whose start was never published (`morlaif start` when the broker fails
    /// after the manifest was created), so no run is left that no worker will ever see; a missing one is fine.
    /// </summary>
    Task DeleteAsync(string runId, CancellationToken cancel = default);
}

public sealed class RunNotFoundException(string runId) : Exception($"run '{runId}' has no manifest")
{
    public string RunId { get; } = runId;
}
