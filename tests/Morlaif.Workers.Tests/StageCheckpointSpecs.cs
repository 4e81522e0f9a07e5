using Microsoft.Extensions.Logging.Abstractions;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

/// <summary>
/// A broker that drops its connection cancels the consumer's token, possibly while the stage is saving a checkpoint
/// (seen in CI: RabbitMQ restarted mid-run left a "resume-train-pm-helpfulness" blob that no record referenced).
/// </summary>
public class StageCheckpointSpecs
{
    private const string Stage = "train-pm/helpfulness";

    [Theory, MemberData(nameof(StorageTests.Kinds), MemberType = typeof(StorageTests))]
    public async Task A_save_cancelled_after_its_upload_records_the_new_checkpoint_and_deletes_the_one_it_replaced(string kind)
    {
        var (store, manifests, _) = StoreFactory.Create(kind);
        var runId = $"test-{Guid.NewGuid():N}"[..30];
        Assert.True(await manifests.CreateAsync(Completed(runId, await store.PutAsync(runId, "config", "{}"u8.ToArray()))));
        using var cancel = new CancellationTokenSource();
        var checkpoints = new StageCheckpoints(new CancelledAfterUpload(store, cancel), manifests, NullLogger<StageCheckpoints>.Instance);

        await checkpoints.SaveAsync(runId, Stage, "inputs", 1, "epoch 1"u8.ToArray(), CancellationToken.None);
        var first = (await manifests.ReadAsync(runId))!.Stages[Stage].Checkpoint!.State;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => checkpoints.SaveAsync(runId, Stage, "inputs", 2, "epoch 2"u8.ToArray(), cancel.Token));

        var recorded = (await manifests.ReadAsync(runId))!.Stages[Stage].Checkpoint!;
        Assert.Equal(2, recorded.Step);
        Assert.True(await store.ExistsAsync(recorded.State));
        Assert.False(await store.ExistsAsync(first), "the replaced checkpoint is left behind");
    }

    [Theory, MemberData(nameof(StorageTests.Kinds), MemberType = typeof(StorageTests))]
    public async Task A_save_after_the_stage_recorded_its_outputs_deletes_what_it_uploaded(string kind)
    {
        var (store, manifests, _) = StoreFactory.Create(kind);
        var runId = $"test-{Guid.NewGuid():N}"[..30];
        var model = await store.PutAsync(runId, "pm-helpfulness", "a model"u8.ToArray());
        var manifest = Completed(runId, await store.PutAsync(runId, "config", "{}"u8.ToArray()));
        manifest.Stages[Stage] = new StageRecord { State = StageState.Done, Outputs = new() { ["model"] = model } };
        Assert.True(await manifests.CreateAsync(manifest));
        var checkpoints = new StageCheckpoints(store, manifests, NullLogger<StageCheckpoints>.Instance);

        // A second copy of the message, still training, saves after the first copy finished the stage.
        var late = "epoch 3"u8.ToArray();
        await checkpoints.SaveAsync(runId, Stage, "inputs", 3, late, CancellationToken.None);

        Assert.Null((await manifests.ReadAsync(runId))!.Stages[Stage].Checkpoint);
        Assert.False(await store.ExistsAsync(ArtifactNames.Reference(runId, "resume-train-pm-helpfulness", late)));
    }

    [Fact]
    public async Task A_replaced_checkpoint_whose_delete_fails_for_a_while_is_still_deleted()
    {
        var (store, manifests, _) = StoreFactory.Create("local");
        var runId = $"test-{Guid.NewGuid():N}"[..30];
        Assert.True(await manifests.CreateAsync(Completed(runId, await store.PutAsync(runId, "config", "{}"u8.ToArray()))));
        var refusing = new RefusingDeletes(store, failures: 2);
        var checkpoints = new StageCheckpoints(refusing, manifests, NullLogger<StageCheckpoints>.Instance);

        await checkpoints.SaveAsync(runId, Stage, "inputs", 1, "epoch 1"u8.ToArray(), CancellationToken.None);
        var first = (await manifests.ReadAsync(runId))!.Stages[Stage].Checkpoint!.State;
        await checkpoints.SaveAsync(runId, Stage, "inputs", 2, "epoch 2"u8.ToArray(), CancellationToken.None);

        Assert.Equal(3, refusing.Attempts);
        Assert.False(await store.ExistsAsync(first), "the replaced checkpoint is left behind");
    }

    [Fact]
    public async Task A_save_whose_manifest_write_is_applied_twice_still_deletes_the_checkpoint_it_replaced()
    {
        var (store, inner, _) = StoreFactory.Create("local");
        var runId = $"test-{Guid.NewGuid():N}"[..30];
        Assert.True(await inner.CreateAsync(Completed(runId, await store.PutAsync(runId, "config", "{}"u8.ToArray()))));
        var checkpoints = new StageCheckpoints(store, new AnswerLostOnce(inner), NullLogger<StageCheckpoints>.Instance);

        await checkpoints.SaveAsync(runId, Stage, "inputs", 1, "epoch 1"u8.ToArray(), CancellationToken.None);
        var first = (await inner.ReadAsync(runId))!.Stages[Stage].Checkpoint!.State;
        await checkpoints.SaveAsync(runId, Stage, "inputs", 2, "epoch 2"u8.ToArray(), CancellationToken.None);

        Assert.Equal(2, (await inner.ReadAsync(runId))!.Stages[Stage].Checkpoint!.Step);
        Assert.False(await store.ExistsAsync(first), "the replaced checkpoint is left behind");
    }

    /// <summary>
    /// Blob storage applying a conditional write whose answer was lost: the client's retry fails on the ETag, and
    /// the compare-and-swap loop runs the change again on the manifest that already holds it.
    /// </summary>
    private sealed class AnswerLostOnce(IManifestStore inner) : IManifestStore
    {
        public async Task<(RunManifest Manifest, bool Changed)> UpdateAsync(string runId, Func<RunManifest, bool> change, CancellationToken cancel = default)
        {
            await inner.UpdateAsync(runId, change, cancel);
            return await inner.UpdateAsync(runId, change, cancel);
        }

        public Task<bool> CreateAsync(RunManifest manifest, CancellationToken cancel = default) => inner.CreateAsync(manifest, cancel);
        public Task<RunManifest?> ReadAsync(string runId, CancellationToken cancel = default) => inner.ReadAsync(runId, cancel);
        public IAsyncEnumerable<string> ListAsync(CancellationToken cancel = default) => inner.ListAsync(cancel);
        public Task<IReadOnlyList<RunManifest>> NewestAsync(int limit, CancellationToken cancel = default) => inner.NewestAsync(limit, cancel);
        public Task DeleteAsync(string runId, CancellationToken cancel = default) => inner.DeleteAsync(runId, cancel);
    }

    /// <summary>
    /// Completed, not Running: the manifest stays in the shared Azurite, and the supervisors of the distributed tests
    /// running beside these would re-send a Running one's SFT, with config "{}" (the default run), and starve them.
    /// </summary>
    private static RunManifest Completed(string runId, ArtifactReference config) => new() { RunId = runId, Config = config, State = RunState.Completed };

    /// <summary>Blob storage refusing connections longer than its client's own retries: the first deletes fail.</summary>
    private sealed class RefusingDeletes(IArtifactStore inner, int failures) : DelegatingStore(inner)
    {
        public int Attempts { get; private set; }

        public override Task DeleteAsync(ArtifactReference reference, CancellationToken token = default) =>
            ++Attempts <= failures ? throw new IOException("connection refused") : base.DeleteAsync(reference, token);
    }

    /// <summary>The store as the broker's drop finds it: the upload went through, then the attempt is cancelled.</summary>
    private sealed class CancelledAfterUpload(IArtifactStore inner, CancellationTokenSource cancel) : DelegatingStore(inner)
    {
        public override async Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken token = default)
        {
            var reference = await base.PutAsync(runId, kind, content, token);
            if (token.CanBeCanceled) await cancel.CancelAsync();
            return reference;
        }
    }

    /// <summary>The real store, with one call changed by each fault above.</summary>
    private abstract class DelegatingStore(IArtifactStore inner) : IArtifactStore
    {
        public virtual Task<ArtifactReference> PutAsync(string runId, string kind, byte[] content, CancellationToken token = default) => inner.PutAsync(runId, kind, content, token);
        public virtual Task DeleteAsync(ArtifactReference reference, CancellationToken token = default) => inner.DeleteAsync(reference, token);
        public Task<byte[]> GetAsync(ArtifactReference reference, CancellationToken token = default) => inner.GetAsync(reference, token);
        public Task<bool> ExistsAsync(ArtifactReference reference, CancellationToken token = default) => inner.ExistsAsync(reference, token);
        public Task PutCachedAsync(string scope, string key, byte[] content, CancellationToken token = default) => inner.PutCachedAsync(scope, key, content, token);
        public Task<byte[]?> GetCachedAsync(string scope, string key, CancellationToken token = default) => inner.GetCachedAsync(scope, key, token);
    }
}
