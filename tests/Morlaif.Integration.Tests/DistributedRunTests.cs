using System.Text.Json;
using Azure.Storage.Blobs;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The distributed pipeline for real: RabbitMQ, Azurite, the five workers as separate processes (two
/// preference trainers), and the CLI's start and status.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DistributedRunTests : IAsyncLifetime
{
    private const string TinyConfig = """
        {
          "seed": 11,
          "principles": ["helpfulness", "conciseness", "ethicality"],
          "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 600, "epochs": 2, "batchSize": 64 },
          "pairs": { "train": 80, "test": 40 },
          "preferenceModel": { "epochs": 1 },
          "ppo": { "iterations": 6, "iterationsPerChunk": 2, "rolloutsPerIteration": 64, "maxNewTokens": 24 },
          "evaluation": { "prompts": 30 }
        }
        """;

    private static readonly string[] Questions = ["helpfulness", "conciseness", "ethicality", "overall"];
    private readonly string _vhost = $"morlaif-test-{Guid.NewGuid():N}"[..26];
    private Processes _processes = null!;
    private string _configPath = "";

    public async Task InitializeAsync()
    {
        var amqp = await Servers.NewVirtualHostAsync(_vhost);
        _processes = new Processes(new Dictionary<string, string>
        {
            ["ConnectionStrings__rabbitmq"] = amqp,
            ["ConnectionStrings__blobs"] = Servers.BlobConnectionString,
            ["Morlaif__Transport"] = "rabbitmq",
            ["Morlaif__Storage"] = "azure",
        });
        _configPath = Path.Combine(Path.GetTempPath(), $"{_vhost}.json");
        await File.WriteAllTextAsync(_configPath, TinyConfig);
    }

    public async Task DisposeAsync()
    {
        _processes.Dispose();
        await Servers.DeleteVirtualHostAsync(_vhost);
        File.Delete(_configPath);
    }

    private string Start()
    {
        var (exit, stdout, stderr) = _processes.Cli("start", "--config", _configPath);
        Assert.True(exit == 0, $"morlaif start failed ({exit}): {stderr}\n{stdout}");
        return stdout.Trim().Split('\n')[^1].Trim(); // the run id alone on the last line
    }

    private JsonElement Status(string runId)
    {
        var (exit, stdout, stderr) = _processes.Cli("status", runId, "--json");
        Assert.True(exit == 0, $"morlaif status failed ({exit}): {stderr}");
        return JsonDocument.Parse(stdout).RootElement;
    }

    /// <summary>The manifest straight from blob storage: fast enough to poll every 100 ms (a CLI call takes seconds).</summary>
    private static JsonElement Manifest(string runId)
    {
        var container = new BlobServiceClient(Servers.BlobConnectionString).GetBlobContainerClient("morlaif");
        return JsonDocument.Parse(container.GetBlobClient($"runs/{runId}/manifest.json").DownloadContent().Value.Content.ToString()).RootElement;
    }

    private JsonElement WaitFor(string runId, Func<JsonElement, bool> done, TimeSpan timeout, bool failIfCompletedFirst = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = Manifest(runId);
            if (done(status)) return status;
            var state = status.GetProperty("state").GetString();
            if (state == "Faulted" || DateTime.UtcNow > deadline)
                Assert.Fail($"run {runId} is {state}: {status}\n{_processes.Logs()}");
            if (failIfCompletedFirst && state == "Completed") Assert.Fail($"run {runId} completed before the awaited condition held: {status}");
            Thread.Sleep(100);
        }
    }

    private static bool Completed(JsonElement s) => s.GetProperty("state").GetString() == "Completed";

    private JsonElement WaitForCompletion(string runId, TimeSpan timeout) => WaitFor(runId, Completed, timeout);

    private static List<string> Blobs(string runId, string kind)
    {
        var container = new BlobServiceClient(Servers.BlobConnectionString).GetBlobContainerClient("morlaif");
        return container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"runs/{runId}/{kind}/", CancellationToken.None).Select(b => b.Name).ToList();
    }

    private void StartAllWorkers(bool withLearner = true)
    {
        _processes.StartWorker("Morlaif.Labeller");
        _processes.StartWorker("Morlaif.PreferenceTrainer", "PreferenceTrainer#1");
        _processes.StartWorker("Morlaif.PreferenceTrainer", "PreferenceTrainer#2");
        _processes.StartWorker("Morlaif.Scalarizer");
        _processes.StartWorker("Morlaif.Evaluator");
        if (withLearner) _processes.StartWorker("Morlaif.PpoLearner");
    }

    [Fact]
    public void A_run_started_from_the_cli_completes_across_separate_worker_processes()
    {
        // The run is started before any worker exists: start deploys the broker topology, so the
        // messages wait in the workers' queues instead of being dropped by unbound exchanges.
        var runId = Start();
        StartAllWorkers();
        var status = WaitForCompletion(runId, TimeSpan.FromMinutes(6));

        var stages = status.GetProperty("stages");
        foreach (var stage in stages.EnumerateObject())
            Assert.True(stage.Value.GetProperty("state").GetString() == "Done", $"{stage.Name} is {stage.Value.GetProperty("state")}");
        foreach (var q in Questions)
        {
            // Each principle's PM was trained exactly once: one attempt in the manifest, one blob in storage.
            Assert.Equal(1, stages.GetProperty($"train-pm/{q}").GetProperty("attempts").GetInt32());
            Assert.Single(Blobs(runId, $"pm-{q}"));
        }

        var reportRef = stages.GetProperty("evaluate").GetProperty("outputs").GetProperty("report");
        var container = new BlobServiceClient(Servers.BlobConnectionString).GetBlobContainerClient("morlaif");
        var report = JsonDocument.Parse(container.GetBlobClient(reportRef.GetProperty("name").GetString()).DownloadContent().Value.Content.ToString()).RootElement;
        Assert.Equal(runId, report.GetProperty("runId").GetString());
        foreach (var field in new[] { "principles", "preferenceModels", "scalarization", "objectiveAccuracy", "ablation", "evaluation", "timings" })
            Assert.True(report.TryGetProperty(field, out _), field);
        Assert.True(report.GetProperty("evaluation").TryGetProperty("vsBaseline", out _));
        Assert.True(report.GetProperty("evaluation").TryGetProperty("judgeVsBaseline", out _));

        var (exit, table, _) = _processes.Cli("status", runId);
        Assert.Equal(0, exit);
        Assert.Contains("Completed", table);
        Assert.DoesNotContain("Running", table);

        // Replaying a stage recomputes it from its recorded inputs and redoes nothing downstream that had succeeded.
        var (replayExit, replayOut, replayErr) = _processes.Cli("replay", runId, "--stage", "scalarize");
        Assert.True(replayExit == 0, replayErr + replayOut);
        var replayed = WaitFor(runId, s => s.GetProperty("stages").GetProperty("scalarize").GetProperty("state").GetString() == "Done"
            && s.GetProperty("stages").GetProperty("scalarize").GetProperty("attempts").GetInt32() == 2, TimeSpan.FromMinutes(2));
        Thread.Sleep(2000); // give any (wrong) downstream work time to show up
        replayed = Status(runId);
        Assert.Equal("Completed", replayed.GetProperty("state").GetString());
        Assert.Equal(1, replayed.GetProperty("stages").GetProperty("ppo/morlaif/0000").GetProperty("attempts").GetInt32());
        Assert.Equal(1, replayed.GetProperty("stages").GetProperty("evaluate").GetProperty("attempts").GetInt32());
        Assert.Single(Blobs(runId, "objective")); // recomputed to the same bytes
    }

    [Fact]
    public void A_learner_killed_in_the_middle_of_ppo_is_restarted_and_the_run_completes_with_nothing_duplicated()
    {
        StartAllWorkers(withLearner: false);
        var learner = _processes.StartWorker("Morlaif.PpoLearner", "PpoLearner#1");
        var runId = Start();

        // Wait until a PPO chunk after the first is under way, then SIGKILL the learner mid-message.
        WaitFor(runId, s => s.GetProperty("stages").EnumerateObject().Any(st =>
            st.Name.StartsWith("ppo/", StringComparison.Ordinal) && !st.Name.EndsWith("/0000", StringComparison.Ordinal)
            && st.Value.GetProperty("state").GetString() == "Running"), TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        learner.Kill(); // SIGKILL: no shutdown, the message in hand is never acknowledged
        learner.WaitForExit();
        Assert.False(Completed(Status(runId)));

        _processes.StartWorker("Morlaif.PpoLearner", "PpoLearner#2");
        var status = WaitForCompletion(runId, TimeSpan.FromMinutes(6));

        var stages = status.GetProperty("stages");
        var chunks = stages.EnumerateObject().Where(s => s.Name.StartsWith("ppo/", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, chunks.Count); // 6 iterations in chunks of 2, two arms
        Assert.All(chunks, c => Assert.Equal("Done", c.Value.GetProperty("state").GetString()));
        Assert.Contains(chunks, c => c.Value.GetProperty("attempts").GetInt32() == 2); // the killed chunk ran again
        // Nothing duplicated: one checkpoint per chunk (the rerun wrote the same bytes), one report.
        Assert.Equal(3, Blobs(runId, "ppo-morlaif").Count);
        Assert.Equal(3, Blobs(runId, "ppo-baseline").Count);
        Assert.Single(Blobs(runId, "report-json"));
        foreach (var q in Questions) Assert.Single(Blobs(runId, $"pm-{q}"));
    }
}
