using System.Diagnostics;
using Morlaif.Integration.Tests.Otlp;
using Xunit.Abstractions;

namespace Morlaif.Integration.Tests;

/// <summary>
/// OpenTelemetry as a user's collector would receive it: the CLI and the five workers, real processes against the real
/// RabbitMQ and Azurite, export over OTLP/HTTP protobuf to a receiver in this test, which decodes the wire format.
/// </summary>
[Trait("Category", "Integration")]
public sealed class TelemetryTests(ITestOutputHelper output) : DistributedTest
{
    private static readonly string[] Services =
        ["morlaif-cli", "morlaif-labeller", "morlaif-preference-trainer", "morlaif-scalarizer", "morlaif-ppo-learner", "morlaif-evaluator"];

    private static readonly string[] WorkerMetrics =
    [
        "morlaif.stage.duration", "morlaif.ppo.iteration.duration", "morlaif.ppo.tokens", "morlaif.queue.wait",
        "morlaif.worker.memory.resident", "morlaif.worker.memory.managed_heap", "messaging.masstransit.consume",
    ];

    [Fact]
    public async Task A_run_is_one_trace_from_morlaif_start_through_the_five_workers_with_their_metrics_and_logs()
    {
        await using var receiver = new OtlpReceiver();
        Run.ExportTelemetryTo(receiver.Endpoint);
        var clock = Stopwatch.StartNew();
        var runId = Run.Start();
        Run.StartAllWorkers();
        var records = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(5)).GetProperty("stages").EnumerateObject().Select(r => r.Name).ToList();
        output.WriteLine($"run {runId} completed after {clock.Elapsed.TotalSeconds:F0} s");

        // Every process exports on its own schedule (spans within 0.2 s, metrics every second): wait for what is asked,
        // not for a fixed time.
        string? trace = null;
        var missing = new List<string>();
        // Each export that arrives may complete the picture: look again after each one, for at most a minute (metrics keep
        // coming every second, so the deadline is overall, not per export).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        do
        {
            var spans = receiver.Spans.ToList();
            trace = spans.FirstOrDefault(s => s.Name == "run start" && s.Attributes.GetValueOrDefault("morlaif.run_id") == runId)?.TraceId;
            missing = Missing(trace, spans, receiver.Metrics.ToList(), receiver.Logs.ToList(), runId, records);
        }
        while (missing.Count > 0 && await receiver.NextExportAsync(deadline - DateTime.UtcNow));
        Assert.Empty(receiver.Refused);
        Assert.True(missing.Count == 0, $"not received: {string.Join("; ", missing)}\n{Summary(receiver)}\n{Run.Processes.Logs()}");
        output.WriteLine($"telemetry complete after {clock.Elapsed.TotalSeconds:F0} s\n{Summary(receiver)}");

        var inTrace = receiver.Spans.Where(s => s.TraceId == trace).ToList();
        // The root is the CLI's, and every stage attempt of the run hangs below it: one trace, not one per process.
        Assert.Single(inTrace, s => s.ParentSpanId == "");
        Assert.Equal("morlaif-cli", inTrace.Single(s => s.ParentSpanId == "").Service);
        var stageSpans = receiver.Spans.Where(s => s.Attributes.GetValueOrDefault("morlaif.run_id") == runId && s.Name.StartsWith("stage ", StringComparison.Ordinal)).ToList();
        Assert.All(stageSpans, s => Assert.True(s.TraceId == trace, $"{s.Name} {s.Attributes["morlaif.record"]} ({s.Service}) is in trace {s.TraceId}, not {trace}"));
        Assert.Equal(records.Order(), stageSpans.Select(s => s.Attributes["morlaif.record"]).Distinct().Order()); // a retried attempt has a span of its own
        var pm = stageSpans.First(s => s.Attributes["morlaif.record"] == "train-pm/helpfulness");
        Assert.Equal(("morlaif-preference-trainer", "train-pm", "helpfulness"), (pm.Service, pm.Attributes["morlaif.stage"], pm.Attributes["morlaif.principle"]));
        var chunk = stageSpans.First(s => s.Attributes["morlaif.record"] == "ppo/morlaif/0003");
        Assert.Equal(("morlaif-ppo-learner", "morlaif", "3"), (chunk.Service, chunk.Attributes["morlaif.arm"], chunk.Attributes["morlaif.ppo.chunk_start"]));
        // Each stage span is a child of MassTransit's consume span in the same process; the blob calls under it are the Azure SDK's.
        var byId = inTrace.ToDictionary(s => s.SpanId);
        Assert.All(stageSpans, s => Assert.Equal(("MassTransit", s.Service), (byId[s.ParentSpanId].Scope, byId[s.ParentSpanId].Service)));
        Assert.Contains(inTrace, s => s.Scope.StartsWith("Azure.", StringComparison.Ordinal) && byId.TryGetValue(s.ParentSpanId, out var p) && stageSpans.Contains(p));
    }

    /// <summary>What has not arrived yet of what the test asks for, one line each.</summary>
    private static List<string> Missing(string? trace, List<OtlpSpan> spans, List<OtlpMetric> metrics, List<OtlpLog> logs, string runId, List<string> records)
    {
        if (trace is null) return ["the CLI's root span 'run start'"];
        var missing = new List<string>();
        var services = spans.Where(s => s.TraceId == trace).Select(s => s.Service).ToHashSet();
        missing.AddRange(Services.Where(s => !services.Contains(s)).Select(s => $"a span of {s} in the run's trace"));
        // Every record of the run's manifest: a stage span with the run's id (in this trace or not: asserted after).
        var spanned = spans.Where(s => s.Attributes.GetValueOrDefault("morlaif.run_id") == runId).Select(s => s.Attributes.GetValueOrDefault("morlaif.record")).ToHashSet();
        missing.AddRange(records.Where(r => !spanned.Contains(r)).Select(r => $"the span of {r}"));
        // A span is exported when it ends: a consume ends after the stage span inside it, so it may come a batch later.
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        missing.AddRange(spans.Where(s => s.TraceId == trace && s.ParentSpanId != "" && !ids.Contains(s.ParentSpanId) && s.Attributes.ContainsKey("morlaif.record"))
            .Select(s => $"the span above {s.Attributes["morlaif.record"]}"));
        foreach (var service in Services.Skip(1))
            missing.AddRange(WorkerMetrics.Where(m => !metrics.Any(x => x.Service == service && x.Name == m) && (m.StartsWith("morlaif.ppo", StringComparison.Ordinal) ? service == "morlaif-ppo-learner" : true))
                .Select(m => $"{m} from {service}"));
        if (!metrics.Any(m => m.Name.StartsWith("dotnet.", StringComparison.Ordinal))) missing.Add("the runtime's dotnet.* metrics");
        foreach (var service in Services.Skip(1))
            if (!logs.Any(l => l.Service == service && l.TraceId == trace && l.Body.Contains(runId, StringComparison.Ordinal)))
                missing.Add($"a log record of {service} naming the run, with the run's trace id");
        return missing;
    }

    private static string Summary(OtlpReceiver receiver) =>
        $"spans: {receiver.Spans.Count} ({string.Join(", ", receiver.Spans.GroupBy(s => (s.Service, s.Scope)).Select(g => $"{g.Key.Service}/{g.Key.Scope} {g.Count()}"))})\n" +
        $"metrics: {string.Join(", ", receiver.Metrics.Select(m => m.Name).Distinct().Order())}\n" +
        $"logs: {receiver.Logs.Count} ({string.Join(", ", receiver.Logs.GroupBy(l => l.Service).Select(g => $"{g.Key} {g.Count()}"))})";
}
