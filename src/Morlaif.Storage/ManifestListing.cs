using System.Collections.Concurrent;
using System.Text.Json;

namespace Morlaif.Storage;

/// <summary>
/// How both stores find their newest runs without reading every manifest whole: a manifest's JSON begins with its run
/// id, config reference and creation time (the order <see cref="RunManifest"/> declares them), so the first
/// <see cref="HeadBytes"/> of each one give its creation time; only the <c>limit</c> newest are then read whole.
/// A manifest whose head does not hold the time (written in another field order) is read whole instead.
/// </summary>
public static class ManifestListing
{
    /// <summary>How much of each manifest is read to find its creation time (a manifest's first fields take a few hundred bytes).</summary>
    public const int HeadBytes = 4096;

    /// <summary>The start of a manifest: at most <see cref="HeadBytes"/>; <c>Whole</c> when that is all of it.</summary>
    public readonly record struct Head(byte[] Bytes, bool Whole);

    /// <param name="ids">every run id of the store (its listing)</param>
    /// <param name="head">the start of a run's manifest; null when it is gone since the listing</param>
    /// <param name="read">a run's whole manifest; null when it is gone</param>
    /// <param name="parallel">how many manifests are looked at at once (requests in flight, for blob storage)</param>
    public static async Task<IReadOnlyList<RunManifest>> NewestAsync(IAsyncEnumerable<string> ids, int limit,
        Func<string, CancellationToken, Task<Head?>> head, Func<string, CancellationToken, Task<RunManifest?>> read, int parallel, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var found = new ConcurrentBag<(string RunId, DateTimeOffset CreatedAt, Head? Head, RunManifest? Manifest)>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancel };
        await Parallel.ForEachAsync(ids, options, async (runId, ct) =>
        {
            if (!RunIds.IsValid(runId) || await head(runId, ct) is not { } h) return;
            if (CreatedAt(h.Bytes, h.Whole) is { } created) found.Add((runId, created, h, null));
            else if (await read(runId, ct) is { } manifest) found.Add((runId, manifest.CreatedAt, null, manifest));
        });
        var newest = found.OrderByDescending(f => f.CreatedAt).ThenByDescending(f => f.RunId, StringComparer.Ordinal).Take(limit).ToList();
        var manifests = new RunManifest?[newest.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, newest.Count), options, async (i, ct) => manifests[i] = newest[i] switch
        {
            { Manifest: { } m } => m,
            { Head: { Whole: true } h } => RunManifest.FromJson(h.Bytes, ArtifactNames.ManifestName(newest[i].RunId)),
            var f => await read(f.RunId, ct), // deleted since: left out
        });
        return [.. manifests.OfType<RunManifest>()];
    }

    /// <summary>
    /// The top-level "createdAt" of a manifest's JSON, read from its first bytes without parsing the rest; null when
    /// those bytes end before it (or it is not a manifest's JSON).
    /// </summary>
    public static DateTimeOffset? CreatedAt(ReadOnlySpan<byte> json, bool whole)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: whole, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCreatedAt = reader.ValueTextEquals("createdAt"u8);
                if (!reader.Read()) return null;
                if (isCreatedAt) return reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var t) ? t : null;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip()) return null;
            }
        }
        catch (JsonException)
        {
            // not JSON after all: the caller reads the manifest whole, which reports it
        }
        return null;
    }
}
