using System.Text.Json;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// Any worker may die at any moment. Each case SIGKILLs one kind of worker in the middle of its stage
/// (no shutdown: the message in hand is never acknowledged), starts a new one, and checks that the run
/// completes with every artifact present once, and that PM training and PPO resumed from their last
/// checkpoint rather than from zero.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WorkerKillTests : DistributedTest
{
    private static bool Running(JsonElement stage) => State(stage) == "Running";

    private static int? CheckpointStep(JsonElement stage) =>
        stage.TryGetProperty("checkpoint", out var c) && c.ValueKind == JsonValueKind.Object ? c.GetProperty("step").GetInt32() : null;

    /// <summary>The tiny run with an arm for every RL algorithm, the GRPO one watched by the judge after every second iteration.</summary>
    private static string EveryAlgorithmConfig()
    {
        var arms = System.Text.Json.Nodes.JsonNode.Parse(TinyDistributedRun.EveryAlgorithmArms)!.AsArray();
        arms[2]!["ppo"]!["monitor"] = new System.Text.Json.Nodes.JsonObject { ["enabled"] = true, ["every"] = 2, ["prompts"] = 8 };
        var config = System.Text.Json.Nodes.JsonNode.Parse(TinyDistributedRun.Config)!.AsObject();
        config["arms"] = arms;
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-algorithms-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    [Theory]
    [InlineData("Morlaif.Labeller", "label/", false)]
    [InlineData("Morlaif.PreferenceTrainer", "train-pm/", true)]
    [InlineData("Morlaif.Scalarizer", "scalarize", false)]
    [InlineData("Morlaif.PpoLearner", "ppo/", true)]
    [InlineData("Morlaif.Evaluator", "evaluate", false)]
    // A GRPO chunk, in a run whose arms are PPO, GRPO (watched by the judge) and RLOO.
    [InlineData("Morlaif.PpoLearner", "ppo/morlaif-grpo/", true, true)]
    public async Task A_worker_killed_in_the_middle_of_its_stage_is_replaced_and_the_run_completes_with_nothing_lost_or_duplicated(
        string service, string stagePrefix, bool resumesFromCheckpoint, bool everyAlgorithm = false)
    {
        // The victim reaches storage through a proxy that adds latency, so its stage lasts seconds and the
        // kill lands inside it; everything else runs at full speed.
        await using var slow = new FaultProxy(Servers.BlobPort) { Latency = TimeSpan.FromMilliseconds(100) };
        Run.StartAllWorkers(except: service);
        var victim = Run.StartWorker(service, $"{service}#1 (killed)", blobPort: slow.Port);
        var runId = Run.Start(everyAlgorithm ? EveryAlgorithmConfig() : null);

        // In the stage; for the stages that checkpoint, past their first checkpoint.
        string? stage = null;
        Run.WaitFor(runId, m => (stage = FindStage(m, stagePrefix, s => Running(s) && (!resumesFromCheckpoint || CheckpointStep(s) is not null))) is not null,
            TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        victim.Kill();
        victim.WaitForExit();
        var atKill = Stage(Manifest(runId), stage!);
        Assert.Equal("Running", State(atKill));
        var step = CheckpointStep(atKill);

        var replacement = Run.StartWorker(service, $"{service}#2");
        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(6));

        AssertCompleteAndIntact(runId, done);
        var record = Stage(done, stage!);
        Assert.Equal(2, record.GetProperty("attempts").GetInt32()); // the killed attempt, and the one that finished
        if (resumesFromCheckpoint)
        {
            // The second attempt started from the checkpoint the first had saved, not from zero.
            Assert.True(record.TryGetProperty("resumedFrom", out var resumed) && resumed.ValueKind == JsonValueKind.Number,
                $"{stage} did not resume: {record}\n{Run.Processes.Logs()}");
            Assert.Equal(step, resumed.GetInt32());
            Assert.Contains($"{stage} resumes from its checkpoint at step {step}", Run.Processes.LogOf(replacement));
            Assert.Equal(step, Stage(Run.Status(runId), stage!).GetProperty("resumedFrom").GetInt32()); // and `morlaif status` shows it
        }
        if (everyAlgorithm)
        {
            // Every arm trained with its own algorithm to its last iteration; the judge's checks of the GRPO arm survived the kill.
            var report = Report(done);
            foreach (var arm in new[] { "morlaif", "baseline", "morlaif-grpo" })
                Assert.Equal(6, report.GetProperty("ppo").GetProperty(arm).GetArrayLength());
            Assert.Equal([2, 4, 6], report.GetProperty("ppo").GetProperty("morlaif-grpo").EnumerateArray()
                .Where(s => s.TryGetProperty("monitor", out _)).Select(s => s.GetProperty("iteration").GetInt32()));
            Assert.Equal(JsonValueKind.Number, report.GetProperty("ppo").GetProperty("morlaif").EnumerateArray().Last().GetProperty("explainedVariance").ValueKind);
            Assert.Equal("NaN", report.GetProperty("ppo").GetProperty("baseline").EnumerateArray().Last().GetProperty("explainedVariance").GetString());
        }
        // Stages the victim did not touch ran once.
        foreach (var other in done.GetProperty("stages").EnumerateObject().Where(s => !s.Name.StartsWith(stagePrefix, StringComparison.Ordinal)))
            Assert.Equal(1, other.Value.GetProperty("attempts").GetInt32());
    }
}
