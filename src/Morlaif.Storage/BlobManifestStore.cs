using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Morlaif.Storage;

/// <summary>Manifests as blobs, updated with If-Match on the ETag read; a 412 means someone else wrote first, so read again.</summary>
public sealed class BlobManifestStore(BlobServiceClient service) : IManifestStore
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(ArtifactNames.Container);

    public async Task<bool> CreateAsync(RunManifest manifest, CancellationToken cancel = default)
    {
        await _container.CreateIfNotExistsAsync(cancellationToken: cancel);
        try
        {
            await Blob(manifest.RunId).UploadAsync(new BinaryData(manifest.ToJson()),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancel);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<RunManifest?> ReadAsync(string runId, CancellationToken cancel = default) => (await ReadWithETagAsync(runId, cancel))?.Manifest;

    public async Task<(RunManifest Manifest, bool Changed)> UpdateAsync(string runId, Func<RunManifest, bool> change, CancellationToken cancel = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (manifest, etag) = await ReadWithETagAsync(runId, cancel) ?? throw new RunNotFoundException(runId);
            if (!change(manifest)) return (manifest, false);
            try
            {
                await Blob(runId).UploadAsync(new BinaryData(manifest.ToJson()),
                    new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = etag } }, cancel);
                return (manifest, true);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 50)
            {
                await Task.Delay(Random.Shared.Next(5, 50 + 10 * attempt), cancel); // jitter so racing writers spread out
            }
        }
    }

    public async IAsyncEnumerable<string> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel = default)
    {
        if (!await _container.ExistsAsync(cancel)) yield break;
        // One level of the hierarchy ("runs/<id>/"), not every artifact blob of every run.
        await foreach (var item in _container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", "runs/", cancel))
            if (item.IsPrefix && item.Prefix.Split('/') is [_, var runId, ""] && RunIds.IsValid(runId)) yield return runId;
    }

    /// <summary>Sixteen manifests' heads in flight at once: one small ranged read each, then the chosen manifests whole.</summary>
    public Task<IReadOnlyList<RunManifest>> NewestAsync(int limit, CancellationToken cancel = default) =>
        ManifestListing.NewestAsync(ListAsync(cancel), limit, HeadAsync, ReadAsync, parallel: 16, cancel);

    private async Task<ManifestListing.Head?> HeadAsync(string runId, CancellationToken cancel)
    {
        try
        {
            var result = await Blob(runId).DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(0, ManifestListing.HeadBytes) }, cancel);
            var bytes = result.Value.Content.ToArray();
            // "bytes 0-4095/12345": the blob's whole length is after the slash.
            var total = result.Value.Details.ContentRange is { } range && long.TryParse(range[(range.IndexOf('/') + 1)..], out var t) ? t : bytes.LongLength;
            return new(bytes, total <= bytes.LongLength);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string runId, CancellationToken cancel = default) =>
        await Blob(runId).DeleteIfExistsAsync(cancellationToken: cancel);

    private async Task<(RunManifest Manifest, ETag ETag)?> ReadWithETagAsync(string runId, CancellationToken cancel)
    {
        try
        {
            var result = await Blob(runId).DownloadContentAsync(cancel);
            return (RunManifest.FromJson(result.Value.Content.ToArray(), ArtifactNames.ManifestName(runId)), result.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private BlobClient Blob(string runId) => _container.GetBlobClient(ArtifactNames.ManifestName(runId));
}
