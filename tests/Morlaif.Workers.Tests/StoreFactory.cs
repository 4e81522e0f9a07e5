using Azure.Storage.Blobs;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

/// <summary>The two storage back ends the tests run against: a temp folder, and the real Azurite that infra/local.sh starts.</summary>
public static class StoreFactory
{
    public const string AzuriteConnectionString =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    public static (IArtifactStore Artifacts, IManifestStore Manifests, string? Root) Create(string kind)
    {
        if (kind == "local")
        {
            var root = Path.Combine(Path.GetTempPath(), $"morlaif-store-{Guid.NewGuid():N}");
            return (new LocalArtifactStore(root), new LocalManifestStore(root), root);
        }
        var cs = Environment.GetEnvironmentVariable("ConnectionStrings__blobs") is { Length: > 0 } env ? env : AzuriteConnectionString;
        var service = new BlobServiceClient(cs);
        return (new BlobArtifactStore(service), new BlobManifestStore(service), null);
    }
}
