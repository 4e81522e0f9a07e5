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
}
