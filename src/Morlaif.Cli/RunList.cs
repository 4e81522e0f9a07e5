using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;
using Spectre.Console;

namespace Morlaif.Cli;

/// <summary>
/// `morlaif status` without a run id: the store's newest runs, newest first, each with its state, when it was created and
/// started, and where it is (its first record not done, in pipeline order, from the run's plan).
/// </summary>
public static class RunList
{
    public const int DefaultLimit = 20;

    public static Option<int> LimitOption()
    {
        var option = new Option<int>("--limit") { Description = "how many runs the list shows, newest first (status without RUNID)", HelpName = "N", DefaultValueFactory = _ => DefaultLimit };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError("option '--limit' must be at least 1");
        });
        return option;
    }

    /// <summary>One run of the list. <see cref="Stage"/>: the first record of the run's plan not done ("completed" when the run is).</summary>
    public sealed record Row(string RunId, RunState State, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, string Stage,
        StageState? StageState, int RecordsDone, int? Records);

    public static async Task<int> PrintAsync(IHost host, int limit, bool json)
    {
        var manifests = await host.Services.GetRequiredService<IManifestStore>().NewestAsync(limit);
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var rows = new List<Row>();
        foreach (var manifest in manifests) rows.Add(Of(manifest, await PlanAsync(artifacts, manifest)));

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { runs = rows }, RunManifest.Json));
            return 0;
        }
        if (rows.Count == 0)
        {
            Console.WriteLine("no runs in the store");
            return 0;
        }
        var table = new Table().AddColumns("run", "state", "created", "started", "stage", "records done");
        foreach (var row in rows)
            table.AddRow(Markup.Escape(row.RunId), Markup.Escape(row.State + (row.Error is null ? "" : $": {row.Error}")), Time(row.CreatedAt), row.StartedAt is { } s ? Time(s) : "-",
                Markup.Escape(row.StageState is { } state ? $"{row.Stage} ({state})" : row.Stage),
                row.Records is { } n ? $"{row.RecordsDone}/{n}" : row.RecordsDone.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>
    /// The run's plan, from its config; null when the config cannot be read (gone or damaged), and the row then stands on the
    /// manifest's records alone.
    /// </summary>
    private static async Task<RunPlan?> PlanAsync(RunArtifacts artifacts, RunManifest manifest)
    {
        try
        {
            return RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, CancellationToken.None)).Config);
        }
        catch (Exception e) when (e is ArtifactNotFoundException or ArtifactIntegrityException or ConfigException or InvalidDataException or ArgumentException)
        {
            return null;
        }
    }

    public static Row Of(RunManifest manifest, RunPlan? plan)
    {
        var started = manifest.Stages.Values.Select(s => s.StartedAt).Min();
        // The run's records in pipeline order: the plan's, or without one the records the manifest has.
        var keys = plan?.Records.Select(r => r.Key).ToList()
            ?? [.. manifest.Stages.Keys.Select(k => (Key: k, Stage: Array.FindIndex(PipelineDefinition.Stages, s => s.Owns(k)))).Where(k => k.Stage >= 0)
                .OrderBy(k => k.Stage).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key)];
        var done = keys.Count(k => PipelineDefinition.IsDone(manifest, k));
        // A faulted run is where its fault is; any other where its first record not done is.
        var at = (manifest.State == RunState.Faulted ? keys.FirstOrDefault(k => manifest.Stages.GetValueOrDefault(k)?.State == StageState.Faulted) : null)
            ?? keys.FirstOrDefault(k => !PipelineDefinition.IsDone(manifest, k));
        var (stage, state) = manifest.State == RunState.Completed ? ("completed", (StageState?)null)
            : at is not null ? (at, manifest.Stages.GetValueOrDefault(at)?.State ?? StageState.Pending)
            : ("-", null); // no record known to be left
        return new Row(manifest.RunId, manifest.State, manifest.Error, manifest.CreatedAt, started, stage, state, done, plan is null ? null : keys.Count);
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("u", CultureInfo.InvariantCulture);
}
