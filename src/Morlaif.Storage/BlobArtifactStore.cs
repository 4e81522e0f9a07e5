using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Morlaif.Contracts;

namespace Morlaif.Storage;

/// <summary>
/// Artifacts in Azure Blob Storage (or Azurite). Uploads are create-only (If-None-Match: *); a 409 for a
/// name that already exists is success once the stored bytes verify. Transient faults are retried by the
/// SDK's own retry policy, configured where the client is created, not wrapped again here.
/// </summary>
public sealed class BlobArtifactStore(BlobServiceClient service) : IArtifactStore
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(ArtifactNames.Container);
    private volatile bool _containerExists;

    public async Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken cancel = default)
    {
        var reference = ArtifactNames.Reference(runId, kind, content);
        await EnsureContainerAsync(cancel);
        var blob = _container.GetBlobClient(reference.Name);
        try
        {
            await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancel);
        }
        catch (RequestFailedException e) when (e.Status == 409 || e.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            await GetAsync(reference, cancel); // already there: fine if it is the same content
        }
        return reference;
    }

    public async Task<byte[]> GetAsync(ArtifactReference reference, CancellationToken cancel = default)
    {
        ArtifactNames.Check(reference);
        try
        {
            var result = await _container.GetBlobClient(reference.Name).DownloadContentAsync(cancel);
            return ArtifactNames.Verify(reference, result.Value.Content.ToArray());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ArtifactNotFoundException(reference);
        }
    }

    public async Task<bool> ExistsAsync(ArtifactReference reference, CancellationToken cancel = default)
    {
        ArtifactNames.Check(reference);
        return (await _container.GetBlobClient(reference.Name).ExistsAsync(cancel)).Value;
    }

    public async Task DeleteAsync(ArtifactReference reference, CancellationToken cancel = default)
    {
        ArtifactNames.Check(reference);
        await _container.GetBlobClient(reference.Name).DeleteIfExistsAsync(cancellationToken: cancel);
    }

    public async Task PutCachedAsync(string scope, string key, byte[] content, CancellationToken cancel = default)
    {
        await EnsureContainerAsync(cancel);
        try
        {
            await _container.GetBlobClient(ArtifactNames.CacheName(scope, key)).UploadAsync(new BinaryData(content),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancel);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // The first answer stays.
        }
    }

    public async Task<byte[]?> GetCachedAsync(string scope, string key, CancellationToken cancel = default)
    {
        try
        {
            return (await _container.GetBlobClient(ArtifactNames.CacheName(scope, key)).DownloadContentAsync(cancel)).Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancel)
    {
        if (_containerExists) return;
        await _container.CreateIfNotExistsAsync(cancellationToken: cancel);
        _containerExists = true;
    }
}
