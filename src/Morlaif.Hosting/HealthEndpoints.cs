using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Morlaif.Hosting;

/// <summary>
/// The probes an orchestrator asks a worker (Kubernetes' liveness and readiness, compose's healthcheck), over HTTP on
/// Morlaif:Health:Port: <c>/healthz</c> answers 200 while the process serves at all; <c>/readyz</c> answers 200 when the
/// host's checks tagged "ready" pass (MassTransit's bus: connected to the broker, endpoints consuming; and the store)
/// and 503 otherwise, with a JSON body naming each check and why it fails. A worker is no web application: Kestrel
/// runs here as a small server of its own beside the host, serving the host's own <see cref="HealthCheckService"/>.
/// </summary>
public sealed class HealthEndpoints(HealthCheckService checks, HealthSettings settings, ILogger<HealthEndpoints> log) : IHostedService, IAsyncDisposable
{
    public const string Live = "/healthz", Ready = "/readyz", ReadyTag = "ready";

    private WebApplication? _server;

    public async Task StartAsync(CancellationToken cancel)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(settings.Port!.Value));
        builder.Services.AddSingleton(checks);
        _server = builder.Build();
        // Liveness runs no check: a broker outage is for the worker to ride out, not a reason to restart it.
        _server.MapHealthChecks(Live, new HealthCheckOptions { Predicate = _ => false });
        _server.MapHealthChecks(Ready, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteReportAsync });
        await _server.StartAsync(cancel);
        log.LogInformation("health probes on port {Port}: {Live} and {Ready}", settings.Port, Live, Ready);
    }

    public async Task StopAsync(CancellationToken cancel)
    {
        if (_server is not null) await _server.StopAsync(cancel);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static Task WriteReportAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>Morlaif:Health. <see cref="Port"/> unset (the default) serves nothing, so several workers on one machine do not collide.</summary>
public sealed class HealthSettings
{
    public int? Port { get; set; }

    public void Validate()
    {
        if (Port is < 1 or > 65535) throw new ArgumentException($"Morlaif:Health:Port must be a TCP port, 1 to 65535 (got {Port})");
    }
}

/// <summary>
/// The store a worker reads and writes answers: one bounded look, as `morlaif start` takes before it changes anything
/// (<see cref="ServerChecks"/>); the failure names the server and its address, never its credentials.
/// </summary>
public sealed class StoreHealthCheck(IConfiguration configuration, MorlaifOptions options) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancel = default)
    {
        if (options.Storage == "local")
            return Directory.Exists(options.LocalRoot) || !File.Exists(options.LocalRoot)
                ? HealthCheckResult.Healthy($"local folder {Path.GetFullPath(options.LocalRoot)}")
                : HealthCheckResult.Unhealthy($"local storage {Path.GetFullPath(options.LocalRoot)} is a file, not a folder");
        try
        {
            await ServerChecks.RequireStorageAsync(configuration, Timeout, cancel);
            return HealthCheckResult.Healthy(ServerChecks.StorageAddress(configuration));
        }
        catch (ServerUnreachableException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
