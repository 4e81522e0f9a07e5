using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// A worker asked to stop (SIGTERM, as every scale-in and rollout does) in the middle of a long stage finishes the step
/// in hand, checkpoints it, hands its message back to the queue (not as a fault) and exits by itself within its shutdown
/// timeout; the next worker resumes from that checkpoint, and no step is computed twice.
/// </summary>
[Trait("Category", "Integration")]
public sealed partial class GracefulShutdownTests : DistributedTest
{
    private const int ShutdownTimeoutSeconds = 120;

    /// <summary>The tiny run with longer PM training and one PPO chunk per arm, so a stop lands between two steps of either well before its last.</summary>
    private static string LongStagesConfig()
    {
        var config = JsonNode.Parse(TinyDistributedRun.Config)!.AsObject();
        config["preferenceModel"]!["epochs"] = 8;
        config["ppo"]!["iterations"] = 8;
        config["ppo"]!["iterationsPerChunk"] = 8;
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-long-stages-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static int? CheckpointStep(JsonElement stage) =>
        stage.TryGetProperty("checkpoint", out var c) && c.ValueKind == JsonValueKind.Object ? c.GetProperty("step").GetInt32() : null;

    /// <summary>The steps a worker's log says it finished for a record ("train-pm/helpfulness epoch 3/8", "PPO morlaif 3/8").</summary>
    private static List<int> StepsLogged(string log, string stage)
    {
        var arm = stage.StartsWith("ppo/", StringComparison.Ordinal) ? stage.Split('/')[1] : null;
        var pattern = arm is null ? $@"{Regex.Escape(stage)} epoch (\d+)/\d+" : $@"PPO {Regex.Escape(arm)} (\d+)/\d+";
        return [.. Regex.Matches(log, pattern).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
    }

    [Theory]
    [InlineData("Morlaif.PreferenceTrainer", "train-pm/", "morlaif-train-pm")]
    [InlineData("Morlaif.PpoLearner", "ppo/", "morlaif-ppo")]
    public async Task A_worker_stopped_mid_stage_checkpoints_hands_its_message_back_and_the_next_resumes_without_recomputing(
        string service, string stagePrefix, string queue)
    {
        // Storage latency for the victim makes each of its steps last long enough that the signal lands inside one.
        await using var slow = new FaultProxy(Servers.BlobPort) { Latency = TimeSpan.FromMilliseconds(100) };
        Run.Set("Morlaif__ShutdownTimeoutSeconds", ShutdownTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Run.StartAllWorkers(except: service);
        var victim = Run.StartWorker(service, $"{service}#1 (stopped)", blobPort: slow.Port);
        var runId = Run.Start(LongStagesConfig());

        string? stage = null;
        var signalled = Run.WaitFor(runId, m => (stage = FindStage(m, stagePrefix, s => State(s) == "Running" && CheckpointStep(s) is >= 1 and <= 3)) is not null,
            TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        var stepAtSignal = CheckpointStep(Stage(signalled, stage!))!.Value;
        var stopping = DateTime.UtcNow;
        Processes.Terminate(victim);
        Assert.True(victim.WaitForExit(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 30)), $"{service} did not exit after SIGTERM\n{Run.Processes.Logs()}");
        var took = DateTime.UtcNow - stopping;
        var victimLog = Run.Processes.LogOf(victim);
        Assert.True(victim.ExitCode == 0, $"{service} exited with {victim.ExitCode}, not as a host that stopped cleanly\n{victimLog}");
        Assert.True(took < TimeSpan.FromSeconds(ShutdownTimeoutSeconds), $"{service} took {took.TotalSeconds:F0} s to stop");

        // It stopped between two steps, after checkpointing the last one it finished: the step in hand was completed, not dropped.
        var atExit = Manifest(runId);
        Assert.Equal("Running", State(atExit));
        var record = Stage(atExit, stage!);
        Assert.Equal("Running", State(record));
        var step = CheckpointStep(record)!.Value;
        var finished = StepsLogged(victimLog, stage!);
        Assert.True(step >= stepAtSignal && step == finished.Max(), $"checkpoint at {step}, signal at {stepAtSignal}, steps logged {string.Join(",", finished)}\n{victimLog}");
        Assert.Contains($"{stage} stops at step {step}, its checkpoint; the message goes back to the queue", victimLog);
        // Handed back, not failed: nothing went to the error queue and the run is not Faulted (WaitFor fails on a fault).
        // (MassTransit declares a queue's _error queue when it first moves a message there.)
        Assert.True(!Servers.QueueTypes(Run.VirtualHost).ContainsKey(queue + "_error") || Servers.QueueDepth(Run.VirtualHost, queue + "_error") == (0, 0),
            $"a message of {queue} went to its error queue\n{victimLog}");
        Assert.True(Servers.QueueDepth(Run.VirtualHost, queue).Ready >= 1, $"no message is waiting in {queue}");

        var replacement = Run.StartWorker(service, $"{service}#2");
        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(8));
        AssertCompleteAndIntact(runId, done);
        var resumed = Stage(done, stage!);
        Assert.Equal(2, resumed.GetProperty("attempts").GetInt32());
        Assert.Equal(step, resumed.GetProperty("resumedFrom").GetInt32());
        var replacementLog = Run.Processes.LogOf(replacement);
        Assert.Contains($"{stage} resumes from its checkpoint at step {step}", replacementLog);
        // Nothing computed twice: the replacement's first step of this record is the one after the checkpoint.
        Assert.Equal(step + 1, StepsLogged(replacementLog, stage!).Min());
    }
}
