using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Morlaif.Workers;
using Morlaif.Workers.Monitoring;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Morlaif.Hosting;

/// <summary>
/// Traces, metrics and logs over OTLP, switched on by the standard variables alone (OTEL_EXPORTER_OTLP_ENDPOINT, or a
/// signal's own OTEL_EXPORTER_OTLP_TRACES_/METRICS_/LOGS_ENDPOINT; empty counts as unset), read from the host's
/// configuration, which holds the environment. Without them nothing is registered: no provider, no exporter, no
/// listener, so the process sends nothing anywhere. The exporter reads the other OTEL_* variables itself
/// (OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS, OTEL_BSP_SCHEDULE_DELAY, OTEL_METRIC_EXPORT_INTERVAL, ...).
/// </summary>
public static class Telemetry
{
    public const string Endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Registers OpenTelemetry for this host if an OTLP endpoint is configured; whether it did.</summary>
    /// <param name="workers">the workers the host runs: one names the service (morlaif-labeller, ...); none or all are the CLI's hosts</param>
    public static bool AddMorlaifTelemetry(this IHostApplicationBuilder builder, IReadOnlyList<string> workers)
    {
        var configuration = builder.Configuration;
        bool Set(string name) => !string.IsNullOrEmpty(configuration[name]);
        var traces = Set(Endpoint) || Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        var metrics = Set(Endpoint) || Set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        var logs = Set(Endpoint) || Set("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
        if (!traces && !metrics && !logs) return false;

        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(
            // OTEL_SERVICE_NAME, where set, wins: a service added in code would otherwise override it.
            configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : ServiceName(workers),
            // The host name is the pod's in Kubernetes; the process id tells two replicas on one machine apart.
            serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}"));
        // UseOtlpExporter exports every signal and reads the per-signal variables; a signal with no endpoint of its
        // own nor the shared one is left with nothing to export, rather than sent to the exporter's default address.
        if (traces)
        {
            // The Azure SDK starts its spans (one per blob call, with its retries) on an ActivitySource only when asked;
            // read once, before the first client is made, so this runs before the storage is registered.
            AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
            telemetry.WithTracing(tracing => tracing
                .AddSource(MorlaifTelemetry.Name) // a span per stage attempt, and the run's root in `morlaif start`
                .AddSource("MassTransit") // MassTransit's DiagnosticHeaders.DefaultListenerName: send, receive, consume
                .AddSource("Azure.*"));
        }
        if (metrics)
        {
            if (workers.Count > 0) MorlaifTelemetry.ObserveWorkerMemory();
            telemetry.WithMetrics(meters => meters
                .AddMeter(MorlaifTelemetry.Name) // stages, PPO iterations and tokens, queue wait, the judge, worker memory
                .AddMeter("MassTransit") // messaging.masstransit.*: consume, receive, send counts and durations
                .AddMeter("System.Runtime")); // .NET's own: GC, heap, thread pool, working set
        }
        if (logs)
            telemetry.WithLogging(configureBuilder: null, configureOptions: options =>
            {
                options.IncludeScopes = true; // the stage a line is about (StageGate's scope)
                options.IncludeFormattedMessage = true;
            });
        else
            builder.Logging.AddFilter<OpenTelemetryLoggerProvider>(_ => false);
        telemetry.UseOtlpExporter();
        return true;
    }

    /// <summary>"morlaif-" and the worker's name for a worker host; the CLI's hosts (no worker, or the embedded run's five) are "morlaif-cli".</summary>
    public static string ServiceName(IReadOnlyList<string> workers) => workers.Count == 1 ? $"morlaif-{workers[0]}" : "morlaif-cli";
}
