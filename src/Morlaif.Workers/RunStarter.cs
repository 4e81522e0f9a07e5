using System.Text;
using MassTransit;
using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Learning;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>
/// Starts a run: stores its config, creates its manifest, publishes RunStarted. Nothing is published for a
/// run that could not be recorded, and nothing is kept of a run whose start could not be published (no
/// worker would ever see it): its manifest and config are taken back.
/// </summary>
public static class RunStarter
{
    /// <summary>yyyyMMdd-HHmmss-s&lt;seed&gt;-&lt;random&gt;: sortable, readable, unique, and safe as a blob name part.</summary>
    public static string NewRunId(RunConfig config) =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-s{config.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture).Replace('-', 'm')}-{Guid.NewGuid().ToString("N")[..6]}";

    public static async Task<string> StartAsync(IArtifactStore store, IManifestStore manifests, IPublishEndpoint bus, RunConfig config,
        string? runId = null, CancellationToken cancel = default)
    {
        runId = RunIds.Validate(runId ?? NewRunId(config));
        // The run's root span: RunStarted carries it in its headers, and each worker's consume and publish carry it on,
        // so the whole run, through every worker process, is one trace.
        using var span = Monitoring.MorlaifTelemetry.Source.StartActivity("run start")?.SetTag("morlaif.run_id", runId);
        var json = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(config, RunConfig.Json));
        var configRef = await store.PutAsync(runId, "config", json, cancel);
        // A text run's model folders and data go into the store first: nothing is started that a worker could not read.
        var inputs = await Backends.RunTasks.For(config).PutInputsAsync(store, config, cancel);
        var manifest = new RunManifest { RunId = runId, Config = configRef, Questions = [.. Learning.Stages.PmQuestions.Labelled(config)], Inputs = inputs };
        if (!await manifests.CreateAsync(manifest, cancel)) throw new RunExistsException(runId);
        try
        {
            await bus.Publish(new RunStarted { RunId = runId, Config = configRef }, cancel);
        }
        catch (Exception e)
        {
            throw new RunNotStartedException(runId, await TakeBackAsync(store, manifests, runId, configRef), e);
        }
        return runId;
    }

    /// <summary>
    /// Deletes the manifest, then the config (the run id was new, so both are this call's alone), on its own
    /// deadline: the caller's token may be what ran out. False when the manifest could not be deleted.
    /// </summary>
    private static async Task<bool> TakeBackAsync(IArtifactStore store, IManifestStore manifests, string runId, ArtifactReference config)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await manifests.DeleteAsync(runId, deadline.Token);
        }
        catch (Exception)
        {
            return false;
        }
        try
        {
            await store.DeleteAsync(config, deadline.Token);
        }
        catch (Exception)
        {
            // a config blob under a run id no manifest names is inert
        }
        return true;
    }
}

/// <summary>A run with this id has a manifest already; nothing was overwritten.</summary>
public sealed class RunExistsException(string runId) : InvalidOperationException($"run '{runId}' already exists")
{
    public string RunId { get; } = runId;
}

/// <summary>RunStarted could not be published (the inner exception says why); <see cref="Removed"/>: the run's manifest was taken back.</summary>
public sealed class RunNotStartedException(string runId, bool removed, Exception inner)
    : Exception($"run {runId} was not started and its manifest {(removed ? "was removed" : "could not be removed")}", inner)
{
    public string RunId { get; } = runId;
    public bool Removed { get; } = removed;
}
