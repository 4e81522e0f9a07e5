using Azure.Storage.Blobs;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

/// <summary>The two storage back ends the tests run against: a temp folder, and the real Azurite that infra/local.sh starts.</summary>
public static class StoreFactory
{
    public static (IArtifactStore Artifacts, IManifestStore Manifests, string? Root) Create(string kind)
    {
        if (kind == "local")
        {
            var root = Path.Combine(Path.GetTempPath(), $"morlaif-store-{Guid.NewGuid():N}");
            return (new LocalArtifactStore(root), new LocalManifestStore(root), root);
        }
        var service = new BlobServiceClient(Morlaif.TestServers.Servers.BlobConnectionString);
        return (new BlobArtifactStore(service), new BlobManifestStore(service), null);
    }
}
