using System.Text.Json;
using Azure.Storage.Blobs;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The distributed pipeline for real: RabbitMQ, Azurite, the five workers as separate processes (two
/// preference trainers), and the CLI's start, status and replay.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DistributedRunTests : IAsyncLifetime
{
    private DistributedRun _run = null!;

    public async Task InitializeAsync() => _run = await CreateAsync();

    public async Task DisposeAsync() => await _run.DisposeAsync();

    [Fact]
    public void A_run_started_from_the_cli_completes_across_separate_worker_processes()
    {
        // The run is started before any worker exists: start deploys the broker topology, so the
        // messages wait in the workers' queues instead of being dropped by unbound exchanges.
        var runId = _run.Start();
        _run.StartAllWorkers();
        var status = _run.WaitForCompletion(runId, TimeSpan.FromMinutes(6));

        AssertCompleteAndIntact(runId, status);
        foreach (var q in Questions)
        {
            // Each principle's PM was trained exactly once: one attempt in the manifest, one blob in storage.
            Assert.Equal(1, Stage(status, $"train-pm/{q}").GetProperty("attempts").GetInt32());
            Assert.Single(Blobs(runId, $"pm-{q}"));
        }

        var reportRef = Stage(status, "evaluate").GetProperty("outputs").GetProperty("report");
        var container = new BlobServiceClient(Servers.BlobConnectionString).GetBlobContainerClient("morlaif");
        var report = JsonDocument.Parse(container.GetBlobClient(reportRef.GetProperty("name").GetString()).DownloadContent().Value.Content.ToString()).RootElement;
        Assert.Equal(runId, report.GetProperty("runId").GetString());
        foreach (var field in new[] { "principles", "preferenceModels", "scalarization", "objectiveAccuracy", "ablation", "evaluation", "timings" })
            Assert.True(report.TryGetProperty(field, out _), field);
        Assert.True(report.GetProperty("evaluation").TryGetProperty("vsBaseline", out _));
        Assert.True(report.GetProperty("evaluation").TryGetProperty("judgeVsBaseline", out _));

        var (exit, table, _) = _run.Processes.Cli("status", runId);
        Assert.Equal(0, exit);
        Assert.Contains("Completed", table);
        Assert.DoesNotContain("Running", table);

        // No secret reached a log or an artifact: not the broker password, not the storage account key.
        var accountKey = System.Text.RegularExpressions.Regex.Match(Servers.BlobConnectionString, "AccountKey=([^;]+)").Groups[1].Value;
        var everything = _run.Processes.Logs(full: true) + table + string.Concat(AllBlobs(runId).Select(b => System.Text.Encoding.UTF8.GetString(b)));
        Assert.DoesNotContain(_run.BrokerPassword, everything);
        Assert.DoesNotContain(accountKey, everything);

        // Replaying a stage recomputes it from its recorded inputs and redoes nothing downstream that had succeeded.
        var (replayExit, replayOut, replayErr) = _run.Processes.Cli("replay", runId, "--stage", "scalarize");
        Assert.True(replayExit == 0, replayErr + replayOut);
        _run.WaitFor(runId, s => State(Stage(s, "scalarize")) == "Done" && Stage(s, "scalarize").GetProperty("attempts").GetInt32() == 2, TimeSpan.FromMinutes(2));
        Thread.Sleep(2000); // give any (wrong) downstream work time to show up
        var replayed = _run.Status(runId);
        Assert.Equal("Completed", replayed.GetProperty("state").GetString());
        Assert.Equal(1, Stage(replayed, "ppo/morlaif/0000").GetProperty("attempts").GetInt32());
        Assert.Equal(1, Stage(replayed, "evaluate").GetProperty("attempts").GetInt32());
        Assert.Single(Blobs(runId, "objective")); // recomputed to the same bytes
    }
}
