using Morlaif.Contracts;

namespace Morlaif.Storage;

/// <summary>
/// Immutable, content-addressed artifacts. A put is create-only: the name embeds the content's SHA-256,
/// so writing the same bytes twice is a no-op and two runs never share a name. Every get verifies the
/// hash and length, so a half-written or tampered artifact is never read as valid.
/// </summary>
public interface IArtifactStore
{
    /// <param name="runId">a validated run id (<see cref="RunIds"/>)</param>
    /// <param name="kind">what the artifact is, e.g. "sft-policy" or "pm-helpfulness" ([a-z0-9-])</param>
    Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken cancel = default);

    Task<byte[]> GetAsync(ArtifactReference reference, CancellationToken cancel = default);

    /// <summary>Whether the artifact is stored (its name, not its bytes, is checked): what an upload of big inputs skips.</summary>
    Task<bool> ExistsAsync(ArtifactReference reference, CancellationToken cancel = default);

    /// <summary>
    /// Removes an artifact nothing will read again (a superseded resume checkpoint); a missing one is fine.
    /// Published artifacts are never deleted.
    /// </summary>
    Task DeleteAsync(ArtifactReference reference, CancellationToken cancel = default);

    /// <summary>
    /// A cache entry under cache/&lt;scope&gt;/&lt;key&gt;, written create-only (the first answer stays). Shared
    /// by all runs on purpose: the same question to the same model is never paid for twice.
    /// </summary>
    Task PutCachedAsync(string scope, string key, byte[] content, CancellationToken cancel = default);

    /// <summary>The cache entry, or null when there is none.</summary>
    Task<byte[]?> GetCachedAsync(string scope, string key, CancellationToken cancel = default);
}

/// <summary>An artifact reference that names no stored blob.</summary>
public sealed class ArtifactNotFoundException(ArtifactReference reference)
    : Exception($"artifact {reference.Container}/{reference.Name} does not exist")
{
    public ArtifactReference Reference { get; } = reference;
}

/// <summary>Stored bytes that do not match their reference's hash or length.</summary>
public sealed class ArtifactIntegrityException(ArtifactReference reference, string actualSha256, long actualLength)
    : Exception($"artifact {reference.Container}/{reference.Name} is corrupt: expected sha256 {reference.Sha256} ({reference.Length} bytes), found {actualSha256} ({actualLength} bytes)")
{
    public ArtifactReference Reference { get; } = reference;
}
