using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;

// Every test here starts several worker processes on a 2-core machine, and some restart the shared
// broker: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Morlaif.Integration.Tests;

/// <summary>
/// One test's distributed pipeline: its own RabbitMQ virtual host, the workers as child processes
/// against the real RabbitMQ and Azurite, the CLI, and direct reads of the manifest and blobs to check on them.
/// </summary>
public sealed class DistributedRun : IAsyncDisposable
{
    /// <summary>The questions of <see cref="TinyDistributedRun.Config"/>: its principles and the baseline's "constitution".</summary>
    public static readonly string[] Questions = ["helpfulness", "conciseness", "ethicality", "constitution"];

    private readonly string _configPath;

    public Processes Processes { get; }
    private string Amqp { get; }

    /// <summary>This test's broker password: a secret that must never show in logs or artifacts.</summary>
    public string BrokerPassword { get; private init; } = "";

    /// <summary>Settings every worker of this test gets on top of the connection strings (environment variables).</summary>
    private readonly Dictionary<string, string> _settings = [];

    private DistributedRun(string vhost, string amqp)
    {
        VirtualHost = vhost;
        Amqp = amqp;
        Processes = new Processes(WorkerEnvironment(Servers.BlobConnectionString));
        _configPath = Path.Combine(Path.GetTempPath(), $"{vhost}.json");
        File.WriteAllText(_configPath, TinyDistributedRun.Config);
    }

    public string VirtualHost { get; }

    public static async Task<DistributedRun> CreateAsync()
    {
        var vhost = $"morlaif-test-{Guid.NewGuid():N}"[..26];
        var (amqp, password) = await Servers.NewVirtualHostAsync(vhost);
        return new DistributedRun(vhost, amqp) { BrokerPassword = password };
    }

    private Dictionary<string, string> WorkerEnvironment(string blobs)
    {
        var env = Servers.WorkerEnvironment(Amqp, blobs);
        foreach (var (k, v) in _settings) env[k] = v;
        return env;
    }

    /// <summary>
    /// Workers started from now on beat every second and re-send the ready stages of a run that has shown
    /// no activity for <paramref name="lease"/> (instead of 30 s and 5 minutes), so a test can watch the
    /// supervisor recover a stalled run.
    /// </summary>
    public void SuperviseWithin(TimeSpan lease)
    {
        _settings["Morlaif__Supervision__HeartbeatSeconds"] = "1";
        _settings["Morlaif__Supervision__SweepSeconds"] = "1";
        _settings["Morlaif__Supervision__LeaseSeconds"] = lease.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A setting (an environment variable, e.g. Morlaif__ShutdownTimeoutSeconds) for the workers started from now on.</summary>
    public void Set(string name, string value) => _settings[name] = value;

    /// <summary>
    /// Workers and CLI commands started from now on export their traces, metrics and logs over OTLP/HTTP (protobuf) to
    /// <paramref name="endpoint"/>, each batch within a fraction of a second and metrics every second, so a test sees
    /// them while the processes still run.
    /// </summary>
    public void ExportTelemetryTo(Uri endpoint)
    {
        foreach (var (name, value) in new Dictionary<string, string>
                 {
                     ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint.ToString().TrimEnd('/'),
                     ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                     ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                     ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                     ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                 })
        {
            Set(name, value);
            Processes.SetEnvironment(name, value);
        }
    }

    /// <summary>Starts a worker; <paramref name="blobPort"/> routes its storage traffic through a proxy on that port.</summary>
    public Process StartWorker(string service, string? name = null, int? blobPort = null) =>
        Processes.StartWorker(service, name, WorkerEnvironment(blobPort is { } port ? Servers.BlobConnectionStringOnPort(port) : Servers.BlobConnectionString));

    public void StartAllWorkers(params string[] except)
    {
        foreach (var (service, name) in TinyDistributedRun.Workers)
            if (!except.Contains(service)) StartWorker(service, name);
    }

    public string Start(string? configPath = null)
    {
        var runId = Processes.StartRun(configPath ?? _configPath);
        _started.Add(runId);
        return runId;
    }

    /// <summary>The runs this test started: those still Running when it ends are marked Faulted, so no later test's supervisor takes them up.</summary>
    private readonly List<string> _started = [];

    public JsonElement Status(string runId)
    {
        var (exit, stdout, stderr) = Processes.Cli("status", runId, "--json");
        Assert.True(exit == 0, $"morlaif status failed ({exit}): {stderr}");
        return JsonDocument.Parse(stdout).RootElement;
    }

    /// <summary>The Morlaif container on Azurite, reached directly (never through a test's fault proxy).</summary>
    public static BlobContainerClient Container => RunStorage.Container;

    /// <summary>A MassTransit JSON envelope around <paramref name="message"/>, as a publisher outside this project would send it.</summary>
    public static string Envelope(string type, string message) =>
        $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:Morlaif.Contracts:{{type}}"],"message":{{message}}}""";

    public static JsonElement Manifest(string runId) => RunStorage.Manifest(runId);

    public static JsonElement Stage(JsonElement manifest, string key) => manifest.GetProperty("stages").GetProperty(key);

    /// <summary>The run's report.json, as the evaluator stored it.</summary>
    public static JsonElement Report(JsonElement manifest)
    {
        var name = Stage(manifest, "evaluate").GetProperty("outputs").GetProperty("report").GetProperty("name").GetString();
        return JsonDocument.Parse(Container.GetBlobClient(name).DownloadContent().Value.Content.ToString()).RootElement;
    }

    public static string State(JsonElement record) => record.GetProperty("state").GetString()!;

    /// <summary>Polls the manifest until <paramref name="done"/> holds; fails on a fault, on time-out, or (if asked) on completion first.</summary>
    public JsonElement WaitFor(string runId, Func<JsonElement, bool> done, TimeSpan timeout, bool failIfCompletedFirst = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = Manifest(runId);
            if (done(status)) return status;
            var state = State(status);
            if (state == "Faulted" || DateTime.UtcNow > deadline)
                Assert.Fail($"run {runId} is {state}: {status}\n{Processes.Logs()}");
            if (failIfCompletedFirst && state == "Completed") Assert.Fail($"run {runId} completed before the awaited condition held: {status}");
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// Waits until every message routed to <paramref name="queue"/> so far has been consumed and acknowledged
    /// (asked of the queue itself): whatever its consumers were going to do with them, right or wrong, is done.
    /// </summary>
    public void WaitForDrained(string queue, TimeSpan timeout) => WaitForQueue(queue, d => d == (0, 0), timeout, "drained");

    /// <summary>Polls a queue's live depth (rabbitmqctl) until <paramref name="done"/> holds; fails on time-out.</summary>
    public void WaitForQueue(string queue, Func<(long Ready, long Unacknowledged), bool> done, TimeSpan timeout, string what)
    {
        for (var deadline = DateTime.UtcNow + timeout; Servers.QueueDepth(VirtualHost, queue) is var depth && !done(depth); Thread.Sleep(200))
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{queue} not {what}: {depth.Ready} ready and {depth.Unacknowledged} unacknowledged messages\n{Processes.Logs()}");
    }

    /// <summary>Polls the manifest until the run is Faulted and returns it; fails on time-out.</summary>
    public JsonElement WaitForFault(string runId, TimeSpan timeout) => WaitFor(runId, m => State(m) == "Faulted", timeout);

    public JsonElement WaitForCompletion(string runId, TimeSpan timeout) => WaitFor(runId, m => State(m) == "Completed", timeout);

    /// <summary>The first stage whose key starts with <paramref name="prefix"/> and that satisfies <paramref name="match"/>, or null.</summary>
    public static string? FindStage(JsonElement manifest, string prefix, Func<JsonElement, bool> match) =>
        manifest.GetProperty("stages").EnumerateObject()
            .Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal) && match(s.Value)).Select(s => s.Name).FirstOrDefault();

    public static List<string> Blobs(string runId, string kind) => RunStorage.Names($"runs/{runId}/{kind}/").ToList();

    /// <summary>The bytes of every blob of the run, manifest included.</summary>
    public static IEnumerable<byte[]> AllBlobs(string runId) =>
        RunStorage.Names($"runs/{runId}/").Select(name => Container.GetBlobClient(name).DownloadContent().Value.Content.ToArray());

    /// <summary>The kinds of artifact the run has stored (manifest excluded).</summary>
    public static List<string> ArtifactKinds(string runId) =>
        RunStorage.Names($"runs/{runId}/").Select(n => n.Split('/')).Where(p => p.Length == 4).Select(p => p[2]).Distinct().ToList();

    /// <summary>
    /// Every stage is Done and has no checkpoint left; every output the manifest references downloads with
    /// the hash and length it was recorded with; the run holds one blob per output and nothing else (no
    /// duplicates, no leftover checkpoints), unless <paramref name="allowUnreferenced"/>.
    /// </summary>
    public static void AssertCompleteAndIntact(string runId, JsonElement manifest, bool allowUnreferenced = false)
    {
        Assert.Equal("Completed", State(manifest));
        foreach (var stage in manifest.GetProperty("stages").EnumerateObject())
        {
            Assert.True(State(stage.Value) == "Done", $"{stage.Name} is {State(stage.Value)}");
            Assert.True(!stage.Value.TryGetProperty("checkpoint", out var c) || c.ValueKind == JsonValueKind.Null, $"{stage.Name} still has a checkpoint");
        }
        var outputs = RunStorage.Outputs(manifest).ToList();
        Assert.All(outputs, o => Assert.True(o.Intact, $"{o.Stage} {o.Output} ({o.Name}) does not match its hash and length"));
        var referenced = outputs.Select(o => o.Name).ToHashSet();
        var stored = RunStorage.Names($"runs/{runId}/").Where(n => !n.EndsWith("/manifest.json", StringComparison.Ordinal)).ToHashSet();
        stored.ExceptWith(referenced);
        // The config is referenced from the manifest's root, not from a stage.
        stored.RemoveWhere(n => n == manifest.GetProperty("config").GetProperty("name").GetString());
        Assert.True(allowUnreferenced || stored.Count == 0, $"blobs no stage references: {string.Join(", ", stored)}");
    }

    public async ValueTask DisposeAsync()
    {
        Processes.Dispose();
        foreach (var runId in _started) await EndIfRunningAsync(runId);
        await Servers.DeleteVirtualHostAsync(VirtualHost);
        File.Delete(_configPath);
    }

    /// <summary>Marks a run Faulted if it is still Running (compare-and-swap on the manifest's ETag; a run that moved meanwhile is read again).</summary>
    private static async Task EndIfRunningAsync(string runId)
    {
        var blob = Container.GetBlobClient($"runs/{runId}/manifest.json");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var read = await blob.DownloadContentAsync();
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(read.Value.Content.ToString())!;
            if (manifest["state"]?.GetValue<string>() != "Running") return;
            manifest["state"] = "Faulted";
            manifest["error"] = "the test that started this run ended before it did";
            try
            {
                await blob.UploadAsync(BinaryData.FromString(manifest.ToJsonString()),
                    new Azure.Storage.Blobs.Models.BlobUploadOptions { Conditions = new() { IfMatch = read.Value.Details.ETag } });
                return;
            }
            catch (Azure.RequestFailedException e) when (e.Status == 412)
            {
            }
        }
    }
}

/// <summary>Each test gets its own <see cref="DistributedRun"/> (virtual host, broker user, worker processes), disposed after it.</summary>
public abstract class DistributedTest : IAsyncLifetime
{
    protected DistributedRun Run { get; private set; } = null!;

    public async Task InitializeAsync() => Run = await DistributedRun.CreateAsync();

    public async Task DisposeAsync() => await Run.DisposeAsync();
}
