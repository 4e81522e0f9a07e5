using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Morlaif.Contracts;

namespace Morlaif.Storage;

/// <summary>
/// Run ids and artifact kinds become parts of blob names and paths, so only a safe alphabet is allowed:
/// no separators, no dots, nothing a path could be escaped with.
/// </summary>
public static partial class RunIds
{
    /// <summary>One run id or artifact kind: also a segment of <see cref="ArtifactNames"/>' name pattern.</summary>
    internal const string Segment = "[a-z0-9][a-z0-9-]{0,62}";

    [GeneratedRegex("^" + Segment + "$")]
    private static partial Regex Safe();

    public static bool IsValid(string? id) => id is not null && Safe().IsMatch(id);

    public static string Validate(string? id, string what = "run id") => IsValid(id)
        ? id!
        : throw new ArgumentException($"{what} '{id}' is not valid: use 1-63 lowercase letters, digits and '-', starting with a letter or digit");
}

public static partial class ArtifactNames
{
    public const string Container = "morlaif";

    /// <summary>
    /// An artifact kind made from names that may hold other characters (a control PM's "constitution+human", an arm's
    /// "linear@lr-2e-4"): each character outside [a-z0-9-] becomes '-'.
    /// </summary>
    public static string Kind(string name) => new([.. name.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-')]);

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>runs/&lt;runId&gt;/&lt;kind&gt;/&lt;sha256&gt;: per run (runs never see each other's artifacts), content-addressed.</summary>
    public static ArtifactReference Reference(string runId, string kind, byte[] content)
    {
        var sha = Sha256(content);
        return new()
        {
            Container = Container,
            Name = $"runs/{RunIds.Validate(runId)}/{RunIds.Validate(kind, "artifact kind")}/{sha}",
            Sha256 = sha,
            Length = content.LongLength,
        };
    }

    [GeneratedRegex("^runs/" + RunIds.Segment + "/" + RunIds.Segment + "/[0-9a-f]{64}$")]
    private static partial Regex ArtifactName();

    /// <summary>
    /// Throws unless the reference names an artifact of this store (runs/&lt;run&gt;/&lt;kind&gt;/&lt;sha256&gt; in
    /// the Morlaif container): a reference from a message or a manifest can point nowhere else, not even by a
    /// leading '/' or a '..'. Both stores check every reference they are given here.
    /// </summary>
    public static ArtifactReference Check(ArtifactReference reference) =>
        reference.Container == Container && ArtifactName().IsMatch(reference.Name)
            ? reference
            : throw new ArgumentException($"artifact reference {reference.Container}/{reference.Name} is not one of this store's names (runs/<run>/<kind>/<sha256> in {Container})");

    public static string CacheName(string scope, string key) =>
        $"cache/{RunIds.Validate(scope, "cache scope")}/{(CacheKey().IsMatch(key) ? key : throw new ArgumentException($"cache key '{key}' is not valid: use 1-128 lowercase letters, digits and '-'"))}";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,127}$")]
    private static partial Regex CacheKey();

    public static string ManifestName(string runId) => $"runs/{RunIds.Validate(runId)}/manifest.json";

    /// <summary>Throws unless the bytes are exactly what the reference promises.</summary>
    public static byte[] Verify(ArtifactReference reference, byte[] content)
    {
        var sha = Sha256(content);
        if (content.LongLength != reference.Length || sha != reference.Sha256)
            throw new ArtifactIntegrityException(reference, sha, content.LongLength);
        return content;
    }
}
