using System.Text.Json;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The distributed pipeline for real: RabbitMQ, Azurite, the five workers as separate processes (two
/// preference trainers), and the CLI's start, status and replay.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DistributedRunTests : DistributedTest
{
    [Fact]
    public void A_run_started_from_the_cli_completes_across_separate_worker_processes()
    {
        // The run is started before any worker exists: start deploys the broker topology, so the
        // messages wait in the workers' queues instead of being dropped by unbound exchanges.
        var runId = Run.Start();
        Run.StartAllWorkers();
        // `status --watch` follows the run from its manifest to the end: redirected, one plain line per finished step.
        var (watched, lines, watchErrors) = Run.Processes.Cli("status", runId, "--watch");
        Assert.True(watched == 0, watchErrors + lines);
        Assert.DoesNotContain('\u001b', lines);
        Assert.Matches(@"train-pm/helpfulness \d+/\d+ epochs, loss [0-9.]+", lines);
        Assert.Matches(@"ppo/morlaif (\d+)/\1 iterations, reward", lines);
        Assert.Contains(" evaluate done", lines);
        Assert.Contains($"run {runId}: Completed", lines);
        var status = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(1));

        AssertCompleteAndIntact(runId, status);
        // Every queue the pipeline declared, its _error queues included, is a quorum queue.
        var pipelineQueues = Servers.QueueTypes(Run.VirtualHost).Where(q => q.Key.StartsWith("morlaif-", StringComparison.Ordinal)).ToList();
        Assert.Contains(pipelineQueues, q => q.Key == "morlaif-train-pm");
        Assert.All(pipelineQueues, q => Assert.True(q.Value == "quorum", $"{q.Key} is a {q.Value} queue"));
        foreach (var q in Questions)
        {
            // Each principle's PM was trained exactly once: one attempt in the manifest, one blob in storage.
            Assert.Equal(1, Stage(status, $"train-pm/{q}").GetProperty("attempts").GetInt32());
            Assert.Single(Blobs(runId, $"pm-{q}"));
        }

        var reportRef = Stage(status, "evaluate").GetProperty("outputs").GetProperty("report");
        var container = Container;
        var report = JsonDocument.Parse(container.GetBlobClient(reportRef.GetProperty("name").GetString()).DownloadContent().Value.Content.ToString()).RootElement;
        Assert.Equal(runId, report.GetProperty("runId").GetString());
        foreach (var field in new[] { "principles", "preferenceModels", "scalarization", "objectiveAccuracy", "ablation", "evaluation", "timings" })
            Assert.True(report.TryGetProperty(field, out _), field);
        Assert.True(report.GetProperty("evaluation").TryGetProperty("vsBaseline", out _));
        Assert.True(report.GetProperty("evaluation").TryGetProperty("judgeVsBaseline", out _));
        // The evaluator, a process of its own, stored the charts report.md links beside the report.
        foreach (var chart in new[] { "chart-evaluation", "chart-ppo", "chart-preference-models", "chart-objectives", "chart-ablation" })
        {
            var name = Stage(status, "evaluate").GetProperty("outputs").GetProperty(chart).GetProperty("name").GetString();
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], container.GetBlobClient(name).DownloadContent().Value.Content.ToArray()[..4]);
        }

        var (exit, table, _) = Run.Processes.Cli("status", runId);
        Assert.Equal(0, exit);
        Assert.Contains("Completed", table);
        Assert.DoesNotContain("Running", table);
        // Redirected, the table is as wide as its content: no record's name is broken across lines.
        foreach (var stage in status.GetProperty("stages").EnumerateObject()) Assert.Contains($" {stage.Name} ", table);

        // No secret reached a log or an artifact: not the broker password, not the storage account key.
        var accountKey = System.Text.RegularExpressions.Regex.Match(Servers.BlobConnectionString, "AccountKey=([^;]+)").Groups[1].Value;
        var everything = Run.Processes.Logs(full: true) + table + string.Concat(AllBlobs(runId).Select(b => System.Text.Encoding.UTF8.GetString(b)));
        Assert.DoesNotContain(Run.BrokerPassword, everything);
        Assert.DoesNotContain(accountKey, everything);

        // Replaying a stage recomputes it from its recorded inputs and redoes nothing downstream that had succeeded.
        var (replayExit, replayOut, replayErr) = Run.Processes.Cli("replay", runId, "--stage", "scalarize");
        Assert.True(replayExit == 0, replayErr + replayOut);
        Run.WaitFor(runId, s => State(Stage(s, "scalarize")) == "Done" && Stage(s, "scalarize").GetProperty("attempts").GetInt32() == 2, TimeSpan.FromMinutes(2));
        // The replayed scalarize published both arms' RewardReady before it was Done; once the learner's queue
        // is empty with nothing unacknowledged, both were consumed, so any (wrong) downstream work has happened.
        Run.WaitForDrained("morlaif-ppo", TimeSpan.FromMinutes(2));
        var replayed = Run.Status(runId);
        Assert.Equal("Completed", replayed.GetProperty("state").GetString());
        Assert.Equal(1, Stage(replayed, "ppo/morlaif/0000").GetProperty("attempts").GetInt32());
        Assert.Equal(1, Stage(replayed, "evaluate").GetProperty("attempts").GetInt32());
        Assert.Single(Blobs(runId, "objective")); // recomputed to the same bytes
    }

    [Fact]
    public void A_corrupt_input_faults_the_run_with_its_reason_in_status_and_replay_after_the_fix_finishes_it_without_redoing_what_succeeded()
    {
        Run.StartAllWorkers(except: "Morlaif.PreferenceTrainer");
        var runId = Run.Start();
        var labelled = Run.WaitFor(runId, m => Questions.All(q => FindStage(m, $"label/{q}", s => State(s) == "Done") is not null),
            TimeSpan.FromMinutes(6), failIfCompletedFirst: true);

        // Damage one input in storage (half its bytes), then let the preference trainer at it.
        var labels = Stage(labelled, "label/conciseness").GetProperty("outputs").GetProperty("labels").GetProperty("name").GetString()!;
        var blob = Container.GetBlobClient(labels);
        var good = blob.DownloadContent().Value.Content.ToArray();
        blob.Upload(new BinaryData(good[..(good.Length / 2)]), overwrite: true);
        Run.StartWorker("Morlaif.PreferenceTrainer");

        var faulted = Run.WaitForFault(runId, TimeSpan.FromMinutes(4));
        Assert.Equal("Faulted", State(Stage(faulted, "train-pm/conciseness")));
        Assert.Equal(1, Stage(faulted, "train-pm/conciseness").GetProperty("attempts").GetInt32()); // not retried: retrying cannot fix it
        Assert.False(faulted.GetProperty("stages").TryGetProperty("scalarize", out _)); // nothing downstream was started
        var (_, table, _) = Run.Processes.Cli("status", runId);
        Assert.Contains("Faulted", table);
        Assert.Contains("train-pm/conciseness", table);
        Assert.Contains("corrupt", table); // the reason, where the user looks

        // Fix the input and replay the stage: the run completes, and what had succeeded ran once.
        blob.Upload(new BinaryData(good), overwrite: true);
        var (exit, stdout, stderr) = Run.Processes.Cli("replay", runId, "--stage", "train-pm", "--principle", "conciseness");
        Assert.True(exit == 0, stderr + stdout);
        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(6));
        AssertCompleteAndIntact(runId, done);
        Assert.Equal(2, Stage(done, "train-pm/conciseness").GetProperty("attempts").GetInt32());
        foreach (var stage in done.GetProperty("stages").EnumerateObject().Where(s => s.Name != "train-pm/conciseness"))
            Assert.True(stage.Value.GetProperty("attempts").GetInt32() == 1, $"{stage.Name} ran {stage.Value.GetProperty("attempts")} times");
    }
}
