using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Cli;

/// <summary>
/// The whole pipeline in this process: all five workers on MassTransit's in-memory transport and a local folder, the
/// same consumers, messages and manifest as a distributed run. `morlaif run` runs one run on it, `morlaif experiment`
/// one per cell.
/// </summary>
public sealed class EmbeddedPipeline : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedPipeline(IHost host) => _host = host;

    public IArtifactStore Store => _host.Services.GetRequiredService<IArtifactStore>();

    public IManifestStore Manifests => _host.Services.GetRequiredService<IManifestStore>();

    /// <summary>Ctrl+C or SIGTERM: the host stops its consumers, so a run waited for cannot finish.</summary>
    public CancellationToken Stopping => _host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

    /// <param name="storeRoot">the local folder that holds the runs' manifests and artifacts</param>
    /// <param name="logging">where the workers' log goes (the caller shows progress itself)</param>
    /// <param name="stageConcurrency">stage messages each worker takes at once (<see cref="StageConcurrencyFor"/>)</param>
    public static async Task<EmbeddedPipeline> StartAsync(string storeRoot, string device, CliLogging logging, int stageConcurrency = 1)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Morlaif:Transport"] = "inmemory",
            ["Morlaif:Storage"] = "local",
            ["Morlaif:LocalRoot"] = storeRoot,
            ["Morlaif:Device"] = device,
            ["Morlaif:StageConcurrency"] = stageConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        WorkerMemory.ConfigureAllocator(keepFreedMemory: true);
        var host = CliHost.Build(settings, logging, WorkerRegistration.All);
        await host.StartAsync();
        return new EmbeddedPipeline(host);
    }

    /// <summary>
    /// The world's models on the CPU are too small to keep every core busy (a 64-wide layer's matmuls end before the
    /// threads sharing them have started), so its eight PMs and its PPO arms are trained side by side, one core each:
    /// about twice the throughput on two cores of intra-op threads on one message. A text run's models fill the cores
    /// themselves and would only double their memory; on a GPU the stages queue for the one device anyway.
    /// </summary>
    public static int StageConcurrencyFor(RunConfig config, string device) =>
        config.Task == RunConfig.WorldTask && device == "cpu" ? Math.Max(1, Environment.ProcessorCount) : 1;

    public Task<string> StartRunAsync(RunConfig config, string? runId = null) =>
        RunStarter.StartAsync(Store, Manifests, _host.Services.GetRequiredService<IBus>(), config, runId);

    /// <summary>Polls the manifest (the run's durable state) until the run completes or faults.</summary>
    public async Task<RunManifest> WaitAsync(string runId, CancellationToken cancel)
    {
        while (true)
        {
            var manifest = await Manifests.ReadAsync(runId, cancel) ?? throw new RunNotFoundException(runId);
            if (manifest.State != RunState.Running) return manifest;
            await Task.Delay(500, cancel);
        }
    }

    /// <summary>Follows the run's progress (<see cref="ProgressView"/>) until it completes or faults.</summary>
    public Task<RunManifest> FollowAsync(string runId, RunConfig config, CancellationToken cancel) =>
        ProgressView.FollowAsync(Manifests, runId, m => RunPlan.Of(m, config), cancel);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
