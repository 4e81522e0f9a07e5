using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

// Every test runs against the local folder and against a real Azurite (started by infra/local.sh).
public class StorageTests
{
    public static TheoryData<string> Kinds => new() { "local", "azure" };

    private static string NewRun() => $"test-{Guid.NewGuid():N}"[..30];

    private static ArtifactReference Minimal(string name, string sha, long length) =>
        new() { Container = ArtifactNames.Container, Name = name, Sha256 = sha, Length = length };

    [Theory, MemberData(nameof(Kinds))]
    public async Task Artifacts_round_trip_and_are_content_addressed(string kind)
    {
        var (store, _, _) = StoreFactory.Create(kind);
        var run = NewRun();
        var bytes = "hello morlaif"u8.ToArray();
        var first = await store.PutAsync(run, "greeting", bytes);
        var again = await store.PutAsync(run, "greeting", bytes); // create-only: the second write is a no-op, not an error
        Assert.Equal(first, again);
        Assert.Equal(ArtifactNames.Sha256(bytes), first.Sha256);
        Assert.EndsWith(first.Sha256, first.Name);
        Assert.Contains(run, first.Name);
        Assert.Equal(bytes, await store.GetAsync(first));
        var other = await store.PutAsync(NewRun(), "greeting", bytes);
        Assert.NotEqual(first.Name, other.Name); // runs never share an artifact name
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task A_reference_to_a_missing_blob_is_a_clear_error(string kind)
    {
        var (store, _, _) = StoreFactory.Create(kind);
        var reference = Minimal($"runs/{NewRun()}/nothing/{new string('0', 64)}", new string('0', 64), 3);
        var e = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => store.GetAsync(reference));
        Assert.Contains(reference.Name, e.Message);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task A_reference_whose_hash_does_not_match_is_never_read_as_valid(string kind)
    {
        var (store, _, _) = StoreFactory.Create(kind);
        var real = await store.PutAsync(NewRun(), "data", [1, 2, 3, 4]);
        var lying = real with { Sha256 = new string('a', 64) };
        var e = await Assert.ThrowsAsync<ArtifactIntegrityException>(() => store.GetAsync(lying));
        Assert.Contains("corrupt", e.Message);
        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => store.GetAsync(real with { Length = 5 }));
    }

    [Fact]
    public async Task A_damaged_local_file_is_detected_on_read()
    {
        var (store, _, root) = StoreFactory.Create("local");
        var reference = await store.PutAsync(NewRun(), "data", [9, 9, 9]);
        await File.WriteAllBytesAsync(Path.Combine(root!, reference.Container, reference.Name), [9, 9]);
        await Assert.ThrowsAsync<ArtifactIntegrityException>(() => store.GetAsync(reference));
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("Run1")]
    [InlineData("")]
    [InlineData("x.y")]
    public async Task Run_ids_with_path_characters_are_refused(string runId)
    {
        var (store, manifests, _) = StoreFactory.Create("local");
        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(runId, "kind", [1]));
        Assert.Contains("not valid", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => manifests.ReadAsync(runId));
    }

    [Theory]
    [InlineData("local", "/etc/passwd")]
    [InlineData("local", "runs/x/kind/../../../../etc/passwd")]
    [InlineData("local", "cache/judge/abc")]
    [InlineData("azure", "/runs/x/kind/0")]
    [InlineData("azure", "other/place")]
    public async Task References_that_name_anything_but_a_run_artifact_are_refused_before_any_access(string kind, string name)
    {
        var (store, _, _) = StoreFactory.Create(kind);
        var reference = new Morlaif.Contracts.ArtifactReference { Container = ArtifactNames.Container, Name = name, Sha256 = new string('0', 64), Length = 1 };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(reference));
        Assert.Contains("is not one of this store's names", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(reference));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(reference with { Container = "elsewhere", Name = $"runs/x/kind/{new string('0', 64)}" }));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Cache_entries_are_keyed_and_the_first_answer_stays(string kind)
    {
        var (store, _, _) = StoreFactory.Create(kind);
        var key = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"); // 64 hex digits, like a SHA-256 key
        Assert.Null(await store.GetCachedAsync("judge", key));
        await store.PutCachedAsync("judge", key, [1, 2]);
        await store.PutCachedAsync("judge", key, [3]); // create-only: ignored
        Assert.Equal(new byte[] { 1, 2 }, await store.GetCachedAsync("judge", key));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutCachedAsync("judge", "../escape", [1]));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task A_manifest_is_created_once_and_concurrent_updates_are_all_kept(string kind)
    {
        var (store, manifests, _) = StoreFactory.Create(kind);
        var run = NewRun();
        var config = await store.PutAsync(run, "config", "{}"u8.ToArray());
        // Completed, not Running: the manifest stays in the shared Azurite, and a Running one with config "{}" (the
        // default run) would be taken up by the supervisors of the distributed tests' workers (a CI run lost its
        // only learner for minutes to this run's re-sent SFT).
        Assert.True(await manifests.CreateAsync(new RunManifest { RunId = run, Config = config, State = RunState.Completed }));
        Assert.False(await manifests.CreateAsync(new RunManifest { RunId = run, Config = config, Error = "overwritten?" }));

        // Twenty writers each add their own stage at the same time: optimistic concurrency must lose none.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            manifests.UpdateAsync(run, m =>
            {
                m.Stage($"stage-{i:D2}").Attempts++;
                return true;
            }))));
        var manifest = await manifests.ReadAsync(run);
        Assert.NotNull(manifest);
        Assert.Null(manifest.Error);
        Assert.Equal(20, manifest.Stages.Count);
        Assert.All(manifest.Stages.Values, s => Assert.Equal(1, s.Attempts));
        await Assert.ThrowsAsync<RunNotFoundException>(() => manifests.UpdateAsync(NewRun(), _ => true));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task The_newest_runs_are_listed_newest_first_reading_only_the_chosen_manifests_whole(string kind)
    {
        var (store, manifests, root) = StoreFactory.Create(kind);
        // Far in the future, and later on each run of this test, so that no other run in the shared Azurite (nor one this
        // test left behind) is newer. Completed, so no supervisor of a distributed test takes them up.
        var t0 = new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero) + (DateTimeOffset.UtcNow - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var prefix = NewRun()[..24];
        // Ids in another order than their times: the list is by creation, not by name.
        string oldest = $"{prefix}-c", late = $"{prefix}-d", big = $"{prefix}-a", newest = $"{prefix}-b";
        RunManifest Manifest(string id, int ms, int records, ArtifactReference config)
        {
            var m = new RunManifest { RunId = id, Config = config, CreatedAt = t0.AddMilliseconds(ms), State = RunState.Completed };
            for (var i = 0; i < records; i++) m.Stage($"stage-{i:D2}").Error = new string('x', 100);
            return m;
        }
        try
        {
            var config = await store.PutAsync(oldest, "config", "{}"u8.ToArray());
            Assert.True(await manifests.CreateAsync(Manifest(oldest, 10, 1, config)));
            // More than the head read of each manifest: its time is in its head, the rest is read only if it is chosen.
            Assert.True(await manifests.CreateAsync(Manifest(big, 30, 60, config)));
            Assert.True((await manifests.ReadAsync(big))!.ToJson().Length > 2 * ManifestListing.HeadBytes);
            Assert.True(await manifests.CreateAsync(Manifest(newest, 40, 2, config)));
            // A manifest written in another field order, its time after more than 4 KB of records: read whole to find it.
            var json = JsonNode.Parse(Manifest(late, 20, 60, config).ToJson())!.AsObject();
            var createdAt = json["createdAt"]!.DeepClone();
            json.Remove("createdAt");
            json["createdAt"] = createdAt;
            var bytes = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
            Assert.Null(ManifestListing.CreatedAt(bytes.AsSpan(0, ManifestListing.HeadBytes), whole: false));
            await WriteRawManifestAsync(kind, root, late, bytes);

            Assert.Equal([newest, big, late, oldest], (await manifests.NewestAsync(4)).Select(m => m.RunId));
            var three = await manifests.NewestAsync(3);
            Assert.Equal([newest, big, late], three.Select(m => m.RunId));
            Assert.Equal([2, 60, 60], three.Select(m => m.Stages.Count)); // whole manifests, the big ones included
            Assert.Equal(t0.AddMilliseconds(20), three[2].CreatedAt);
            Assert.Equal([newest], (await manifests.NewestAsync(1)).Select(m => m.RunId));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manifests.NewestAsync(0));
        }
        finally
        {
            foreach (var id in new[] { oldest, late, big, newest }) await manifests.DeleteAsync(id);
        }
        if (kind == "local") Assert.Empty(await manifests.NewestAsync(5));
    }

    private static async Task WriteRawManifestAsync(string kind, string? root, string runId, byte[] json)
    {
        if (kind == "local")
        {
            var path = Path.Combine(root!, ArtifactNames.Container, ArtifactNames.ManifestName(runId));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, json);
            return;
        }
        var container = new BlobServiceClient(Morlaif.TestServers.Servers.BlobConnectionString).GetBlobContainerClient(ArtifactNames.Container);
        await container.GetBlobClient(ArtifactNames.ManifestName(runId)).UploadAsync(new BinaryData(json), overwrite: true);
    }
}
