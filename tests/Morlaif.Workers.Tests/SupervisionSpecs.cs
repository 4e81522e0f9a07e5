using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Supervision;

namespace Morlaif.Workers.Tests;

/// <summary>
/// Runs that stop moving are found and finished without anyone acting: a lost command is re-sent by the
/// supervisor, a claim whose holder vanished is taken over, and an output the store lost is computed again
/// by the stage that produced it. Each case is a copy of the completed tiny run's manifest with one thing
/// taken away, so only the missing part computes.
/// </summary>
[Trait("Category", "Slow"), Collection(CompletedRunCollection.Name)]
public class SupervisionSpecs(CompletedRunFixture run)
{
    private static readonly SupervisionSettings Settings = new();

    private static string FinalChunk(string arm) => StageKeys.PpoChunk(arm, 2); // TinyRun: 4 iterations in chunks of 2

    /// <summary>A new run whose records are the completed run's, less those <paramref name="drop"/> names, with its records' times as old as it is.</summary>
    private async Task<RunManifest> CopyAsync(PipelineHarness pipeline, Func<string, bool> drop, Action<RunManifest>? change = null, string? runId = null)
    {
        var source = run.Manifest;
        var manifest = new RunManifest
        {
            RunId = runId ?? NewRunId(), Config = source.Config, Questions = source.Questions, CreatedAt = source.CreatedAt,
        };
        foreach (var (key, record) in source.Stages.Where(kv => !drop(kv.Key)))
            manifest.Stages[key] = JsonSerializer.Deserialize<StageRecord>(JsonSerializer.Serialize(record, RunManifest.Json), RunManifest.Json)!;
        change?.Invoke(manifest);
        Assert.True(await pipeline.Manifests.CreateAsync(manifest));
        return manifest;
    }

    private static string NewRunId() => $"sup-{Guid.NewGuid():N}"[..28];

    private static Supervisor SupervisorOf(PipelineHarness pipeline) =>
        new(pipeline.Manifests, pipeline.Harness.Bus, pipeline.Get<RunArtifacts>(), Settings, NullLogger<Supervisor>.Instance);

    [Fact]
    public async Task A_lost_command_is_re_sent_once_the_run_has_been_still_for_a_lease_and_the_run_completes()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All, run.Pipeline.Root);
        await pipeline.StartAsync();
        // The morlaif arm's last chunk was asked for, and the message was lost: no record, nothing queued.
        var manifest = await CopyAsync(pipeline, key => key == FinalChunk(ScalarizationStage.MorlaifArm) || key == StageKeys.Evaluate,
            m => m.State = RunState.Running);
        var supervisor = SupervisorOf(pipeline);
        var still = manifest.LastActivity;

        // While the run has moved within the lease, nothing is re-sent.
        Assert.Empty(await supervisor.SuperviseAsync(manifest, still + Settings.Lease - TimeSpan.FromSeconds(1), CancellationToken.None));
        // After a lease without activity, exactly what the run waits on is: the lost chunk (evaluate's inputs are not all there).
        var resent = await supervisor.SuperviseAsync(manifest, still + Settings.Lease + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal([FinalChunk(ScalarizationStage.MorlaifArm)], resent);

        var done = await pipeline.WaitAsync(manifest.RunId);
        Assert.Equal(RunState.Completed, done.State);
        Assert.Equal(1, done.Stages[FinalChunk(ScalarizationStage.MorlaifArm)].Resent);
        Assert.Equal(1, done.Stages[FinalChunk(ScalarizationStage.MorlaifArm)].Attempts);
        Assert.Equal(StageState.Done, done.Stages[StageKeys.Evaluate].State);
        // A completed run is left alone, however old.
        Assert.Empty(await supervisor.SuperviseAsync(done, DateTimeOffset.UtcNow + 10 * Settings.Lease, CancellationToken.None));
    }

    [Fact]
    public async Task A_claim_whose_holder_vanished_while_publishing_is_taken_over_and_published_without_computing_again()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All, run.Pipeline.Root);
        await pipeline.StartAsync();
        // The morlaif arm's last chunk recorded its outputs, then its worker vanished before the event went out,
        // and its message is gone (a store that lost writes, a purged queue): nothing will redeliver it.
        var manifest = await CopyAsync(pipeline, key => key == StageKeys.Evaluate, m =>
        {
            m.State = RunState.Running;
            var chunk = m.Stages[FinalChunk(ScalarizationStage.MorlaifArm)];
            chunk.State = StageState.Publishing;
            chunk.Claim = $"{Guid.NewGuid()}/gone";
            chunk.CompletedAt = null;
        });

        var resent = await SupervisorOf(pipeline).SuperviseAsync(manifest, manifest.LastActivity + Settings.Lease + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal([FinalChunk(ScalarizationStage.MorlaifArm)], resent);

        var done = await pipeline.WaitAsync(manifest.RunId);
        Assert.Equal(RunState.Completed, done.State);
        var chunkDone = done.Stages[FinalChunk(ScalarizationStage.MorlaifArm)];
        Assert.Equal(StageState.Done, chunkDone.State);
        Assert.Equal(1, chunkDone.Attempts); // published what was recorded; not trained again
        Assert.Equal(run.Manifest.Stages[FinalChunk(ScalarizationStage.MorlaifArm)].Outputs[StageOutputs.Checkpoint], chunkDone.Outputs[StageOutputs.Checkpoint]);
    }

    [Fact]
    public async Task An_output_the_store_lost_is_computed_again_by_its_stage_and_the_run_completes()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All, run.Pipeline.Root);
        await pipeline.StartAsync();
        // This run's own copy of the morlaif arm's final checkpoint, then the store loses it.
        var source = run.Manifest.Stages[FinalChunk(ScalarizationStage.MorlaifArm)].Outputs[StageOutputs.Checkpoint];
        var runId = NewRunId();
        var copy = await pipeline.Store.PutAsync(runId, "ppo-morlaif", await pipeline.Store.GetAsync(source));
        var manifest = await CopyAsync(pipeline, key => key == StageKeys.Evaluate, m =>
        {
            m.State = RunState.Running;
            m.Stages[FinalChunk(ScalarizationStage.MorlaifArm)].Outputs[StageOutputs.Checkpoint] = copy;
        }, runId);
        File.Delete(Path.Combine(pipeline.Root, copy.Container, copy.Name));

        await (await pipeline.Harness.Bus.GetSendEndpoint(Endpoints.Queue(PipelineDefinition.Evaluate.Queue))).Send(new EvaluateRun { RunId = manifest.RunId });
        var done = await pipeline.WaitAsync(manifest.RunId);

        Assert.True(done.State == RunState.Completed, $"{done.State}: {done.Error}");
        var chunk = done.Stages[FinalChunk(ScalarizationStage.MorlaifArm)];
        Assert.Equal(1, chunk.Recomputed);
        Assert.Equal(2, chunk.Attempts);
        // Computed again to the same bytes (every iteration is seeded), so the restored artifact is the lost one.
        Assert.Equal(copy, chunk.Outputs[StageOutputs.Checkpoint]);
        Assert.Null(chunk.WaitingFor);
        Assert.Null(done.Stages[StageKeys.Evaluate].WaitingFor);
        Assert.Equal(1, done.Stages[FinalChunk(ScalarizationStage.BaselineArm)].Attempts);
    }

    [Theory]
    [InlineData(StageState.Running)]
    [InlineData(StageState.Done)] // a Done record that lost its outputs: what a worker's last write made of a regressed record before
    public async Task A_stage_asked_for_while_the_stored_manifest_lacks_its_inputs_waits_for_them_and_the_run_completes(StageState regressed)
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All, run.Pipeline.Root);
        await pipeline.StartAsync();
        // The store lost its last writes: one PM is back to Running without its model, while its event has
        // already gone out and the scalarizer is asked to fit (a CI run faulted here before: "has no output 'model' yet").
        var pm = StageKeys.TrainPm(run.Manifest.Questions[0]);
        var manifest = await CopyAsync(pipeline, key => key == StageKeys.Scalarize || key.StartsWith("ppo/", StringComparison.Ordinal) || key == StageKeys.Evaluate, m =>
        {
            m.State = RunState.Running;
            var record = m.Stages[pm];
            record.State = regressed;
            record.Outputs = new();
            record.CompletedAt = null;
        });

        await (await pipeline.Harness.Bus.GetSendEndpoint(Endpoints.Queue(PipelineDefinition.Scalarize.Queue))).Send(new Scalarize { RunId = manifest.RunId });
        var waiting = await pipeline.WaitAsync(manifest.RunId, m => m.State != RunState.Running || m.Stages.GetValueOrDefault(StageKeys.Scalarize)?.WaitingFor is not null);
        Assert.True(waiting.State == RunState.Running, $"{waiting.State}: {waiting.Error}");
        Assert.Equal(pm, waiting.Stages[StageKeys.Scalarize].WaitingFor);
        Assert.Equal(0, waiting.Stages[StageKeys.Scalarize].Attempts);

        // Nothing else brings the PM back: the supervisor finds it stalled and asks for it again.
        var resent = await SupervisorOf(pipeline).SuperviseAsync(waiting, waiting.LastActivity + Settings.Lease + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal([pm], resent);
        var done = await pipeline.WaitAsync(manifest.RunId);
        Assert.True(done.State == RunState.Completed, $"{done.State}: {done.Error}");
        Assert.Equal(1, done.Stages[StageKeys.Scalarize].Attempts);
        Assert.Null(done.Stages[StageKeys.Scalarize].WaitingFor);
        // Trained again from the same seed: the same model as the completed run's.
        Assert.Equal(run.Manifest.Stages[pm].Outputs[StageOutputs.Model].Sha256, done.Stages[pm].Outputs[StageOutputs.Model].Sha256);
    }
}
