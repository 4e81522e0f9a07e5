using MassTransit;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

[Trait("Category", "Slow"), Collection(CompletedRunCollection.Name)]
public class FaultAndReplaySpecs(CompletedRunFixture run)
{
    [Fact]
    public async Task A_corrupt_input_faults_the_run_with_its_reason_and_a_replay_after_the_fix_finishes_it()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All, run.Pipeline.Root);
        await pipeline.StartAsync();
        var source = run.Manifest;
        var runId = $"replay-{Guid.NewGuid():N}"[..30];

        // A run that has its SFT policy, every label set and every PM but conciseness's, whose labels are damaged in storage.
        var good = await pipeline.Store.GetAsync(source.Stages[StageKeys.Label("conciseness")].Outputs["labels"]);
        var labelsRef = await pipeline.Store.PutAsync(runId, "labels-conciseness", good);
        var labelsFile = Path.Combine(pipeline.Root, labelsRef.Container, labelsRef.Name);
        await File.WriteAllBytesAsync(labelsFile, good[..(good.Length / 2)]);
        var manifest = new RunManifest { RunId = runId, Config = source.Config, Questions = source.Questions };
        foreach (var (key, stage) in source.Stages.Where(kv => kv.Key == StageKeys.Sft || kv.Key.StartsWith("label/", StringComparison.Ordinal)
                     || (kv.Key.StartsWith("train-pm/", StringComparison.Ordinal) && kv.Key != StageKeys.TrainPm("conciseness"))))
            manifest.Stages[key] = stage;
        manifest.Stages[StageKeys.Label("conciseness")] = new StageRecord { State = StageState.Done, Attempts = 1, Outputs = new() { ["labels"] = labelsRef } };
        Assert.True(await pipeline.Manifests.CreateAsync(manifest));

        await pipeline.Harness.Bus.Publish(new PrincipleLabelled { RunId = runId, Principle = "conciseness", Labels = labelsRef });
        var faulted = await pipeline.WaitAsync(runId);
        Assert.Equal(RunState.Faulted, faulted.State);
        Assert.Contains("train-pm/conciseness", faulted.Error);
        Assert.Contains("corrupt", faulted.Error); // the reason, as `morlaif status` shows it
        Assert.Equal(StageState.Faulted, faulted.Stages[StageKeys.TrainPm("conciseness")].State);
        Assert.Equal(1, faulted.Stages[StageKeys.TrainPm("conciseness")].Attempts); // not retried: retrying cannot fix a corrupt input
        Assert.False(faulted.Stages.ContainsKey(StageKeys.Scalarize)); // nothing downstream was published

        // Fix the input, then replay the stage: the run finishes without redoing what had succeeded.
        await File.WriteAllBytesAsync(labelsFile, good);
        await RunReplay.ResetAsync(pipeline.Manifests, runId, [StageKeys.TrainPm("conciseness")]);
        var endpoint = await pipeline.Harness.Bus.GetSendEndpoint(Endpoints.Queue(Pipeline.PipelineDefinition.TrainPm.Queue));
        await endpoint.Send(new TrainPreferenceModel { RunId = runId, Principle = "conciseness" });
        var done = await pipeline.WaitAsync(runId);

        Assert.Equal(RunState.Completed, done.State);
        Assert.Null(done.Error);
        Assert.Equal(2, done.Stages[StageKeys.TrainPm("conciseness")].Attempts);
        Assert.Equal(1, done.Stages[StageKeys.Sft].Attempts);
        Assert.Equal(1, done.Stages[StageKeys.TrainPm("helpfulness")].Attempts);
        Assert.Equal(1, done.Stages[StageKeys.Label("helpfulness")].Attempts);
        Assert.Equal(StageState.Done, done.Stages[StageKeys.Evaluate].State);
    }

    [Fact]
    public async Task A_checkpoint_its_stage_cannot_read_is_passed_over_and_retired_with_the_outputs()
    {
        await using var pipeline = new PipelineHarness([WorkerRegistration.PreferenceTrainer], run.Pipeline.Root);
        await pipeline.StartAsync();
        var source = run.Manifest;
        var runId = $"stale-{Guid.NewGuid():N}"[..30];
        var stage = StageKeys.TrainPm("conciseness");

        // Every input of the conciseness PM, and a checkpoint for those very inputs that this trainer cannot
        // read (as if written by another version): intact in storage, so only the trainer can reject it.
        var manifest = new RunManifest { RunId = runId, Config = source.Config, Questions = source.Questions };
        foreach (var (key, input) in source.Stages.Where(kv => kv.Key == StageKeys.Sft || kv.Key.StartsWith("label/", StringComparison.Ordinal)))
            manifest.Stages[key] = input;
        var inputs = StageCheckpoints.Fingerprint(source.Config, source.Stages[StageKeys.Sft].Outputs["policy"],
            source.Stages[StageKeys.Sft].Outputs["pairs"], source.Stages[StageKeys.Label("conciseness")].Outputs["labels"]);
        var stale = await pipeline.Store.PutAsync(runId, "resume-train-pm-conciseness", "a checkpoint from another format"u8.ToArray());
        manifest.Stages[stage] = new StageRecord { Checkpoint = new StageCheckpoint(1, stale, inputs) };
        Assert.True(await pipeline.Manifests.CreateAsync(manifest));

        var endpoint = await pipeline.Harness.Bus.GetSendEndpoint(Endpoints.Queue(Pipeline.PipelineDefinition.TrainPm.Queue));
        await endpoint.Send(new TrainPreferenceModel { RunId = runId, Principle = "conciseness" });
        var done = await pipeline.WaitAsync(runId, m => m.Stages[stage].State is StageState.Done or StageState.Faulted);

        var record = done.Stages[stage];
        Assert.Equal(StageState.Done, record.State);
        Assert.Null(done.Error);
        Assert.Null(record.ResumedFrom); // trained from zero...
        Assert.Equal(source.Stages[stage].Outputs["model"].Sha256, record.Outputs["model"].Sha256); // ...to the very PM of the uninterrupted run
        Assert.Null(record.Checkpoint); // retired in the write that recorded the outputs
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => pipeline.Store.GetAsync(stale));
    }

    [Fact]
    public async Task A_run_with_no_PPO_iterations_completes_with_the_SFT_policy_in_both_arms()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var config = TinyRun.Config();
        var runId = await pipeline.StartRunAsync(config with { Ppo = config.Ppo with { Iterations = 0 } });
        var done = await pipeline.WaitAsync(runId);

        Assert.Equal(RunState.Completed, done.State);
        var report = System.Text.Json.JsonSerializer.Deserialize<Learning.Runs.RunReport>(
            await pipeline.Store.GetAsync(done.Stages[StageKeys.Evaluate].Outputs["report"]), Learning.Runs.RunConfig.Json)!;
        foreach (var arm in new[] { "morlaif", "baseline" })
        {
            Assert.Equal(StageState.Done, done.Stages[StageKeys.PpoChunk(arm, 0)].State); // the one chunk, with nothing to iterate
            Assert.Empty(report.Ppo[arm]);
        }
    }
}
