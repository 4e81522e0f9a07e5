using Morlaif.Storage;
using Morlaif.Workers.Monitoring;
using Morlaif.Workers.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

namespace Morlaif.Workers.Tests;

/// <summary>The one table of stages says the same thing to everyone who reads it.</summary>
public class PipelineDefinitionTests
{
    private static readonly RunPlan Plan = new(["helpfulness", "conciseness", "overall"], [new("morlaif", [0, 2]), new("baseline", [0, 2])]);

    [Fact]
    public void Every_record_of_a_run_has_a_command_that_names_that_same_record_and_is_served_by_its_stage()
    {
        var records = Plan.Records.ToList();
        Assert.Equal(1 + 3 + 3 + 1 + 4 + 1, records.Count);
        foreach (var (stage, key) in records)
        {
            Assert.Same(stage, PipelineDefinition.OfKey(key));
            var (queue, command) = PipelineDefinition.CommandFor("run-1", key);
            Assert.Equal(stage.Queue, queue);
            Assert.IsType(stage.Command, command);
            Assert.Contains(stage.Command, stage.Triggers);
            Assert.Equal(key, stage.KeyOf(command));
            Assert.Equal("run-1", (string?)command.GetType().GetProperty("RunId")!.GetValue(command));
        }
    }

    [Fact]
    public void Each_message_runs_exactly_one_stage_and_every_input_is_an_earlier_record()
    {
        foreach (var message in PipelineDefinition.AllTriggers)
            Assert.Single(PipelineDefinition.Stages, s => s.Triggers.Contains(message));
        var order = Plan.Records.Select(r => r.Key).ToList();
        foreach (var (stage, key) in Plan.Records)
        foreach (var input in stage.Inputs(Plan, key))
            Assert.True(order.IndexOf(input) is >= 0 and var i && i < order.IndexOf(key), $"{key} reads {input}, which is not an earlier record");
    }

    [Fact]
    public async Task A_fault_of_the_message_that_labels_every_question_marks_the_label_record_that_was_running()
    {
        var root = Path.Combine(Path.GetTempPath(), $"morlaif-def-{Guid.NewGuid():N}");
        var manifests = new LocalManifestStore(root);
        var manifest = new RunManifest
        {
            RunId = "run-1", Questions = [.. Plan.Questions],
            Config = new Contracts.ArtifactReference { Container = "morlaif", Name = "runs/run-1/config/x", Sha256 = "x", Length = 1 },
        };
        manifest.Stage(StageKeys.Label("helpfulness")).State = StageState.Done;
        manifest.Stage(StageKeys.Label("conciseness")).State = StageState.Running;
        Assert.True(await manifests.CreateAsync(manifest));

        await new RunFaults(manifests, NullLogger<RunFaults>.Instance).MarkAsync("run-1", "label", PipelineDefinition.Label, null, "boom");

        var faulted = (await manifests.ReadAsync("run-1"))!;
        Assert.Equal(RunState.Faulted, faulted.State);
        Assert.Equal(StageState.Faulted, faulted.Stages[StageKeys.Label("conciseness")].State);
        Assert.Equal(StageState.Done, faulted.Stages[StageKeys.Label("helpfulness")].State);
        Assert.False(faulted.Stages.ContainsKey("label")); // the old map marked a record no replay would reset
        Assert.Equal(["label/conciseness"], RunReplay.Keys(faulted, Plan, PipelineDefinition.Label, "conciseness"));
    }

    [Fact]
    public void A_record_left_Publishing_is_settled_once_everything_that_reads_it_is_produced_and_not_before()
    {
        // As a manifest that went back to an earlier state leaves it: a PM's Done write lost, its event delivered.
        var manifest = new RunManifest
        {
            RunId = "run-1", Questions = [.. Plan.Questions],
            Config = new Contracts.ArtifactReference { Container = "morlaif", Name = "runs/run-1/config/x", Sha256 = "x", Length = 1 },
        };
        // A record produced in a state, with an artifact under every output its stage declares.
        void Produce(string key, StageState state)
        {
            var record = manifest.Stage(key);
            record.State = state;
            foreach (var output in PipelineDefinition.OfKey(key).Outputs)
                record.Outputs[output] = new Contracts.ArtifactReference { Container = "morlaif", Name = $"runs/run-1/{output}/x", Sha256 = "x", Length = 1 };
        }
        foreach (var (_, key) in Plan.Records.Take(7)) Produce(key, StageState.Done); // sft, labels, PMs
        Produce(StageKeys.TrainPm("conciseness"), StageState.Publishing);
        manifest.Stage(StageKeys.TrainPm("conciseness")).Claim = "gone/1";
        var now = DateTimeOffset.UtcNow;

        // The scalarizer has not produced yet: the PM's event may still be what it waits for.
        Assert.Empty(PipelineDefinition.Settle(manifest, Plan, now));
        Assert.Equal(StageState.Publishing, manifest.Stages[StageKeys.TrainPm("conciseness")].State);

        // The scalarizer read the PM's outputs, but the evaluator reads them too and has not yet.
        Produce(StageKeys.Scalarize, StageState.Publishing);
        Assert.Empty(PipelineDefinition.Settle(manifest, Plan, now));

        Produce(StageKeys.Evaluate, StageState.Done);
        Assert.Equal([StageKeys.TrainPm("conciseness")], PipelineDefinition.Settle(manifest, Plan, now));
        var settled = manifest.Stages[StageKeys.TrainPm("conciseness")];
        Assert.Equal((StageState.Done, null, now), (settled.State, settled.Claim, settled.CompletedAt));
        // The scalarizer's own record is read by PPO chunks that are not produced: left to its holder.
        Assert.Empty(PipelineDefinition.Settle(manifest, Plan, now));
    }
}
