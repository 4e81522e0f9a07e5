using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Morlaif.Hosting;
using Morlaif.Workers;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Morlaif.Cli.Tests;

/// <summary>OpenTelemetry in the hosts is switched on by the standard OTLP variables alone (TelemetryTests in the integration tests reads what it sends).</summary>
public class TelemetryDefaultsTests
{
    private static IHost Build(Dictionary<string, string?> otel, params string[] workers)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Morlaif:Transport"] = "inmemory",
            ["Morlaif:Storage"] = "local",
            ["Morlaif:LocalRoot"] = Path.Combine(Path.GetTempPath(), $"morlaif-otel-{Guid.NewGuid():N}"),
        }).AddInMemoryCollection(otel);
        builder.AddMorlaifDefaults(workers);
        return builder.Build();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_an_otlp_endpoint_no_provider_or_exporter_is_registered(string? endpoint)
    {
        using var host = Build(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint, ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" }, WorkerRegistration.Labeller);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
        Assert.DoesNotContain(host.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
        Assert.DoesNotContain(host.Services.GetServices<IHostedService>(), s => s.GetType().Namespace?.StartsWith("OpenTelemetry", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void With_an_endpoint_every_signal_is_exported_under_the_workers_service_name()
    {
        using var host = Build(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" },
            WorkerRegistration.PreferenceTrainer);
        var tracing = host.Services.GetRequiredService<TracerProvider>();
        Assert.NotNull(host.Services.GetService<MeterProvider>());
        Assert.Contains(host.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
        var resource = tracing.GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal("morlaif-preference-trainer", resource["service.name"]);
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", resource["service.instance.id"]);
    }

    [Fact]
    public void The_cli_is_morlaif_cli_and_an_explicit_service_name_wins()
    {
        using var cli = Build(new() { ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:4318/v1/traces" });
        Assert.Equal("morlaif-cli", ServiceName(cli));
        // Only traces have an endpoint: no log line reaches the OpenTelemetry provider (which the exporter adds for every signal).
        var rules = cli.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LoggerFilterOptions>>().Value.Rules;
        Assert.Contains(rules, r => r.ProviderName == typeof(OpenTelemetryLoggerProvider).FullName && r.Filter?.Invoke(null, null, LogLevel.Critical) == false);
        using var named = Build(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318", ["OTEL_SERVICE_NAME"] = "labeller-eu" }, WorkerRegistration.Labeller);
        Assert.Equal("labeller-eu", ServiceName(named));
    }

    private static object ServiceName(IHost host) =>
        host.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.Single(a => a.Key == "service.name").Value;
}
