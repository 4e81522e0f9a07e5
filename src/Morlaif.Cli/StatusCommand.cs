using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Storage;
using Morlaif.Workers.Supervision;
using Spectre.Console;

namespace Morlaif.Cli;

/// <summary>
/// morlaif status RUNID [--json]: the run's state and every stage's, read from its manifest (no broker needed); without
/// RUNID the store's newest runs (<see cref="RunList"/>).
/// </summary>
public static class StatusCommand
{
    private static readonly Argument<string> RunId = CliOptions.RunId(optional: true,
        "the run's id, as `morlaif run` or `morlaif start` printed it; without it, the store's newest runs");
    private static readonly Option<bool> Json = CliOptions.Json("the manifest's stages (without RUNID: the runs) as JSON");
    private static readonly Option<int> Limit = RunList.LimitOption();
    private static readonly Option<bool> Watch = new("--watch")
    {
        Description = "follow the run until it completes or faults: the live progress view of `morlaif run` (plain lines when redirected)",
    };
    private static readonly ServerOptions Servers = new(transport: false);

    public static Command Create() => CliOptions.Command("status",
        "Each stage's state, attempts, durations, progress and errors, from the run's manifest (no broker needed); without RUNID, the newest runs in the store.",
        "morlaif status 20261206-103243-s1-50be5d --json", [RunId, Json, Limit, Watch, .. Servers.Symbols], (r, cancel) => Execute(r, cancel));

    private static async Task<int> Execute(ParseResult r, CancellationToken cancel)
    {
        var runId = r.GetValue(RunId);
        if (runId is not null && r.GetResult(Limit) is { Implicit: false })
            throw new UsageException("option '--limit' applies to status without a run id (the list of runs) only");
        if (r.GetValue(Watch) && (runId is null || r.GetValue(Json)))
            throw new UsageException("option '--watch' follows one run: give its RUNID, without --json");
        var overrides = Servers.Overrides(r);
        overrides["Morlaif:Transport"] = "inmemory"; // status reads storage only
        using var host = CliHost.Build(overrides);
        await CliServers.RequireAsync(host);
        if (runId is null) return await RunList.PrintAsync(host, r.GetValue(Limit), r.GetValue(Json));
        var manifests = host.Services.GetRequiredService<IManifestStore>();
        var manifest = await manifests.ReadAsync(runId) ?? throw new RunNotFoundException(runId);
        if (r.GetValue(Watch))
        {
            // The same view as `morlaif run`, read from the manifest the run's workers write wherever they are.
            var config = (await host.Services.GetRequiredService<Workers.RunArtifacts>().ContextAsync(manifest, cancel)).Config;
            AnsiConsole.MarkupLineInterpolated($"run [bold]{runId}[/]: {config.Principles.Length} principles, arms {string.Join(", ", config.PolicyArms.Select(a => a.Name))}");
            manifest = await ProgressView.FollowAsync(manifests, runId, m => Workers.Pipeline.RunPlan.Of(m, config), cancel, TimeSpan.FromSeconds(2));
            AnsiConsole.MarkupLineInterpolated($"run [bold]{runId}[/]: {manifest.State}{(manifest.Error is null ? "" : " — " + manifest.Error)}");
            return manifest.State == RunState.Faulted ? 1 : 0;
        }
        var supervision = host.Services.GetRequiredService<SupervisionSettings>();
        var now = DateTimeOffset.UtcNow;

        if (r.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                runId = manifest.RunId,
                state = manifest.State.ToString(),
                error = manifest.Error,
                createdAt = manifest.CreatedAt,
                stages = manifest.Stages.ToDictionary(kv => kv.Key, kv => new
                {
                    state = kv.Value.State.ToString(),
                    attempts = kv.Value.Attempts,
                    seconds = kv.Value.ElapsedSeconds,
                    error = kv.Value.Error,
                    checkpointStep = kv.Value.Checkpoint?.Step,
                    resumedFrom = kv.Value.ResumedFrom,
                    heartbeat = kv.Value.Heartbeat,
                    stalled = supervision.IsStalled(manifest, kv.Value, now),
                    resent = kv.Value.Resent,
                    recomputed = kv.Value.Recomputed,
                    outputs = kv.Value.Outputs,
                }),
            }, RunManifest.Json));
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"run [bold]{manifest.RunId}[/]: {manifest.State}{(manifest.Error is null ? "" : " — " + manifest.Error)}");
        var table = new Table().AddColumns("stage", "state", "attempts", "seconds", "heartbeat", "progress", "error");
        foreach (var (key, s) in manifest.Stages)
            table.AddRow(Markup.Escape(key), supervision.IsStalled(manifest, s, now) ? $"{s.State} (stalled)" : s.State.ToString(),
                s.Attempts.ToString(CultureInfo.InvariantCulture), s.ElapsedSeconds?.ToString("F1", CultureInfo.InvariantCulture) ?? "-",
                s.Heartbeat is { } beat && s.State is StageState.Running or StageState.Publishing ? $"{(now - beat).TotalSeconds:F0} s ago" : "-",
                Progress(s), Markup.Escape(s.Error ?? ""));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Where a long stage stands: its latest checkpoint, and the step its last attempt resumed from.</summary>
    private static string Progress(StageRecord s) => string.Join(", ", new[]
    {
        s.Checkpoint is { } c ? $"checkpoint at step {c.Step}" : null,
        s.ResumedFrom is { } r ? $"resumed at step {r}" : null,
        s.Resent > 0 ? $"re-sent {s.Resent}x by the supervisor" : null,
        s.Recomputed > 0 ? $"recomputed {s.Recomputed}x (output lost)" : null,
    }.Where(x => x is not null));
}
