using System.CommandLine;
using Morlaif.Learning.Experiments;
using Morlaif.Learning.Runs;
using Spectre.Console;

namespace Morlaif.Cli;

/// <summary>
/// morlaif experiment: a grid of world runs in this process (resumable: a rerun skips every finished cell), then the
/// aggregate with intervals: DIR/experiment.json and DIR/experiment.md. With --report-only, the aggregate alone, from the
/// cells' result files (committed with the experiment, so anyone can recompute the report without training).
/// </summary>
public static class ExperimentCommand
{
    private static readonly Option<string?> ConfigFile =
        new("--config") { Description = "an experiment file (see experiments/)", HelpName = "FILE", Required = true };
    private static readonly Option<string?> Out = CliOptions.Out("where the cells' results and the report go (default: the experiment file's folder/results)");
    private static readonly Option<string> Device = CliOptions.Device();
    private static readonly Option<bool> Verbose = CliOptions.Verbose();
    private static readonly Option<bool> ReportOnly = new("--report-only")
    {
        Description = "train nothing: rebuild experiment.json, experiment.md and the charts from the cells' results on disk (DIR/cells, committed with the experiment)",
    };

    public static Command Create() => CliOptions.Command("experiment",
        "A grid of world runs (seeds, label budgets, scalarizations, baselines) in this process, resumable, then experiment.json and experiment.md with 95% intervals, and charts.",
        "morlaif experiment --config experiments/paper-findings/experiment.json", [ConfigFile, Out, Device, Verbose, ReportOnly], (r, cancel) => Execute(r, cancel));

    private static async Task<int> Execute(ParseResult r, CancellationToken cancel)
    {
        var path = r.GetValue(ConfigFile)!;
        var (experiment, run) = ExperimentConfig.Load(path);
        var device = RunCommand.ParseDevice(r.GetValue(Device)!);
        var outDir = Path.GetFullPath(r.GetValue(Out) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "results"));
        var cells = experiment.Cells(run);
        if (r.GetValue(ReportOnly))
        {
            var found = cells.DistinctBy(c => c.Id).Count(c => File.Exists(new CellFiles(outDir, c).FitPath));
            if (found == 0) throw new ConfigException($"{Path.Combine(outDir, "cells")}: no cell's results to report on: run the experiment first (without --report-only)");
            AnsiConsole.MarkupLineInterpolated($"[bold]experiment[/] {path}: the report from {found} of {cells.Select(c => c.Id).Distinct().Count()} cells' results in {outDir}");
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"[bold]experiment[/] {path}: {cells.Select(c => c.Id).Distinct().Count()} cells, results in {outDir}, log in {Path.Combine(outDir, "experiment.log")}");
            var logging = new CliLogging(r.GetValue(Verbose), Path.Combine(outDir, "experiment.log"));
            await new ExperimentRunner(run, outDir, device, line => AnsiConsole.WriteLine(line), logging, progress: true).RunAsync(cells, cancel);
        }
        var report = ExperimentReport.Build(experiment, run, outDir);
        ExperimentReport.Write(report, outDir);
        ExperimentCharts.Write(report, outDir);
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(outDir, "experiment.md")}");
        return 0;
    }
}
