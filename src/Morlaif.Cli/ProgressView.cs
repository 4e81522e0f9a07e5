using System.Globalization;
using Morlaif.Storage;
using Morlaif.Workers.Monitoring;
using Morlaif.Workers.Pipeline;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Morlaif.Cli;

/// <summary>
/// A run's progress as people read it: a live table on a terminal (one row per stage, PM and PPO arm), or, when the
/// output is a pipe or a file, one plain line per finished step and no escape codes. Both follow the run's manifest
/// (<see cref="RunProgress"/>), so `morlaif run` and `morlaif status --watch` show the same view.
/// </summary>
public static class ProgressView
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>A terminal that can redraw in place; anything else gets plain lines.</summary>
    public static bool Live => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Follows the run until it is no longer Running (or <paramref name="cancel"/>) and returns its last manifest.</summary>
    public static async Task<RunManifest> FollowAsync(IManifestStore manifests, string runId, Func<RunManifest, RunPlan> planOf, CancellationToken cancel,
        TimeSpan? every = null)
    {
        var interval = every ?? TimeSpan.FromMilliseconds(500);
        async Task<RunManifest> Read() => await manifests.ReadAsync(runId, cancel) ?? throw new RunNotFoundException(runId);
        var manifest = await Read();
        var plan = planOf(manifest);
        if (Live)
        {
            await AnsiConsole.Live(Table(RunProgress.Rows(manifest, plan, DateTimeOffset.UtcNow))).AutoClear(false).StartAsync(async live =>
            {
                while (manifest.State == RunState.Running)
                {
                    await Task.Delay(interval, cancel);
                    manifest = await Read();
                    live.UpdateTarget(Table(RunProgress.Rows(manifest, plan, DateTimeOffset.UtcNow)));
                }
            });
            return manifest;
        }
        var seen = new Dictionary<string, (StageState, int)>();
        while (true)
        {
            foreach (var row in RunProgress.Rows(manifest, plan, DateTimeOffset.UtcNow))
            {
                var ended = row.State is StageState.Done or StageState.Faulted;
                // The last step is told with the row's end, and its final figures (a PM's held-out accuracy).
                if (!ended && row.Unit != "" && row.Done >= row.Total) continue;
                var now = (row.State, row.Done);
                var before = seen.GetValueOrDefault(row.Name, (StageState.Pending, 0));
                seen[row.Name] = now;
                // A step that finished: more done, or the row's end.
                if (now != before && (row.Done > before.Item2 || ended)) Console.WriteLine(Line(row));
            }
            if (manifest.State != RunState.Running) return manifest;
            await Task.Delay(interval, cancel);
            manifest = await Read();
        }
    }

    /// <summary>
    /// One task outside the pipeline (`label`, `sft`): on a terminal a live bar with its rate and time left, the lines
    /// <paramref name="work"/> writes printed above it; otherwise those lines alone. <paramref name="work"/> reports how
    /// much is done of how much (from any thread; the total may be known only once the work has read its input) and
    /// writes lines through the second callback.
    /// </summary>
    public static async Task<T> TaskAsync<T>(string description, Func<Action<int, int>, Action<string>, Task<T>> work)
    {
        if (!Live) return await work((_, _) => { }, Console.WriteLine);
        return await AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description));
                return await work((done, total) =>
                {
                    task.MaxValue = total;
                    task.Value = done;
                }, line => AnsiConsole.WriteLine(line));
            });
    }

    /// <summary>One row per stage, PM and arm; narrow enough for 80 columns but for the figures, which wrap.</summary>
    public static Table Table(IReadOnlyList<ProgressRow> rows)
    {
        // The figures column takes what the others, kept on one line each, leave.
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns(new TableColumn("stage").NoWrap(), new TableColumn("progress").NoWrap(), new TableColumn("time").NoWrap(), new TableColumn("latest"));
        foreach (var row in rows)
        {
            var time = string.Join(" ", new[] { Duration(row.Elapsed), Rate(row), row.Left is { } l ? $"~{Duration(l)} left" : "" }.Where(s => s != ""));
            table.AddRow(new Text(row.Name), Progress(row), new Text(time), new Text(Figures(row)));
        }
        return table;
    }

    /// <summary>The plain form of a row: "12:04:31 train-pm/helpfulness 2/3 epochs, loss 0.924 (11 s, ~5 s left)".</summary>
    public static string Line(ProgressRow row)
    {
        var what = row.State switch
        {
            StageState.Faulted => "faulted",
            StageState.Done when row.Unit == "" => "done",
            _ => $"{row.Done}/{row.Total} {row.Unit}".TrimEnd(),
        };
        var figures = Figures(row);
        var timing = string.Join(", ", new[] { Duration(row.Elapsed), row.Left is { } l ? $"~{Duration(l)} left" : "" }.Where(s => s != ""));
        return $"{DateTime.Now:HH:mm:ss} {row.Name} {what}{(figures == "" ? "" : ", " + figures)}{(timing == "" ? "" : $" ({timing})")}";
    }

    /// <summary>A bar coloured by state and the count; a single-record stage without steps says its state in words.</summary>
    private static IRenderable Progress(ProgressRow row)
    {
        const int width = 10;
        var (colour, word) = row.State switch
        {
            StageState.Done => ("green", "done"),
            StageState.Faulted => ("red", "faulted"),
            StageState.Pending => ("grey", "waiting"),
            _ => ("yellow", "running"),
        };
        if (row.Unit == "") return new Markup($"[{colour}]{word}[/]");
        var filled = (int)Math.Round(width * Math.Clamp((double)row.Done / row.Total, 0, 1));
        return new Markup($"[{colour}]{new string('━', filled)}[/][grey]{new string('─', width - filled)}[/] {row.Done}/{row.Total} {Markup.Escape(Short(row.Unit))}");
    }

    private static string Short(string unit) => unit switch { "iterations" => "it", "epochs" => "ep", _ => unit };

    private static string Rate(ProgressRow row) => row.PerSecond switch
    {
        null => "",
        >= 1 => $"{row.PerSecond.Value.ToString("F1", C)} {Short(row.Unit)}/s",
        var r => $"{(1 / r.Value).ToString("F1", C)} s/{Short(row.Unit)}",
    };

    private static string Figures(ProgressRow row) => string.Join(", ", row.Figures.Select(f => $"{f.Key} {f.Value.ToString("F3", C)}"));

    private static string Duration(TimeSpan? t) => t switch
    {
        null => "",
        { TotalHours: >= 1 } h => $"{(int)h.TotalHours}h{h.Minutes:D2}m",
        { TotalMinutes: >= 1 } m => $"{(int)m.TotalMinutes}m{m.Seconds:D2}s",
        { } s => $"{s.TotalSeconds:F0} s",
    };
}
