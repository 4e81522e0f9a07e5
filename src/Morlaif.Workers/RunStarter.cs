using System.Text;
using MassTransit;
using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Learning;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>Starts a run: stores its config, creates its manifest, publishes RunStarted. Nothing is published for a run that could not be recorded.</summary>
public static class RunStarter
{
    /// <summary>yyyyMMdd-HHmmss-s&lt;seed&gt;-&lt;random&gt;: sortable, readable, unique, and safe as a blob name part.</summary>
    public static string NewRunId(RunConfig config) =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-s{config.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture).Replace('-', 'm')}-{Guid.NewGuid().ToString("N")[..6]}";

    public static async Task<string> StartAsync(IArtifactStore store, IManifestStore manifests, IPublishEndpoint bus, RunConfig config,
        string? runId = null, CancellationToken cancel = default)
    {
        runId = RunIds.Validate(runId ?? NewRunId(config));
        var json = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(config, RunConfig.Json));
        var configRef = await store.PutAsync(runId, "config", json, cancel);
        var manifest = new RunManifest { RunId = runId, Config = configRef, Questions = [.. config.Principles, Principle.Overall] };
        if (!await manifests.CreateAsync(manifest, cancel)) throw new InvalidOperationException($"run '{runId}' already exists");
        await bus.Publish(new RunStarted { RunId = runId, Config = configRef }, cancel);
        return runId;
    }
}
