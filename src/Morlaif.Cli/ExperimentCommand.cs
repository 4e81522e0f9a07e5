using Morlaif.Learning.Experiments;
using Spectre.Console;
using TorchSharp;

namespace Morlaif.Cli;

/// <summary>
/// morlaif experiment: a grid of world runs in this process (resumable: a rerun skips every finished cell), then the
/// aggregate with intervals: DIR/experiment.json and DIR/experiment.md.
/// </summary>
public static class ExperimentCommand
{
    public static readonly string[] Options = ["config", "out", "device"];

    public static int Execute(CliArguments args)
    {
        var path = args.Get("config") ?? throw new UsageException("option '--config' is required (an experiment file; see experiments/)");
        var (experiment, run) = ExperimentConfig.Load(path);
        var device = RunCommand.ParseDevice(args.Get("device") ?? "cpu");
        var outDir = Path.GetFullPath(args.Get("out") ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "results"));
        var cells = experiment.Cells(run);
        AnsiConsole.MarkupLineInterpolated($"[bold]experiment[/] {path}: {cells.Select(c => c.Id).Distinct().Count()} cells, results in {outDir}");
        new ExperimentRunner(run, outDir, new torch.Device(device), line => AnsiConsole.WriteLine(line)).Run(cells);
        var report = ExperimentReport.Build(experiment, run, outDir);
        ExperimentReport.Write(report, outDir);
        ExperimentCharts.Write(report, outDir);
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(outDir, "experiment.md")}");
        return 0;
    }
}
