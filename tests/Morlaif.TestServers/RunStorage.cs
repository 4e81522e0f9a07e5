using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Morlaif.TestServers;

/// <summary>
/// A run's manifest and artifacts read straight from Azurite (never through a test's fault proxy), for the
/// distributed tests and the soak to check what the workers left behind.
/// </summary>
public static class RunStorage
{
    public static BlobContainerClient Container { get; } = new BlobServiceClient(Servers.BlobConnectionString).GetBlobContainerClient("morlaif");

    /// <summary>The manifest as stored: fast enough to poll every 100 ms (a CLI call takes seconds).</summary>
    public static JsonElement Manifest(string runId) =>
        JsonDocument.Parse(Container.GetBlobClient($"runs/{runId}/manifest.json").DownloadContent().Value.Content.ToString()).RootElement;

    /// <summary>The names of the blobs under <paramref name="prefix"/>.</summary>
    public static IEnumerable<string> Names(string prefix) =>
        Container.GetBlobs(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None).Select(b => b.Name);

    /// <summary>Every output the manifest's stages reference, and whether it downloads with the hash and length it was recorded with.</summary>
    public static IEnumerable<(string Stage, string Output, string Name, bool Intact)> Outputs(JsonElement manifest)
    {
        foreach (var stage in manifest.GetProperty("stages").EnumerateObject())
        foreach (var output in stage.Value.GetProperty("outputs").EnumerateObject())
        {
            var name = output.Value.GetProperty("name").GetString()!;
            var bytes = Container.GetBlobClient(name).DownloadContent().Value.Content.ToArray();
            var intact = bytes.LongLength == output.Value.GetProperty("length").GetInt64()
                         && Convert.ToHexStringLower(SHA256.HashData(bytes)) == output.Value.GetProperty("sha256").GetString();
            yield return (stage.Name, output.Name, name, intact);
        }
    }
}
