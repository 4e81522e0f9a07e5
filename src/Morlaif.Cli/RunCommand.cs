using System.Globalization;
using Morlaif.Learning.Runs;
using Spectre.Console;
using TorchSharp;

namespace Morlaif.Cli;

/// <summary>morlaif run: the whole pipeline in this process, on the built-in or a given config.</summary>
public static class RunCommand
{
    public static readonly string[] Options = ["config", "out", "seed", "device"];

    public static int Execute(CliArguments args)
    {
        // Everything that can be wrong with the input is checked before any work starts.
        var config = args.Get("config") is { } path ? RunConfig.Load(path) : new RunConfig();
        if (args.GetLong("seed") is { } seed) config = config.WithSeed(seed);
        var device = ParseDevice(args.Get("device") ?? "cpu");
        var outDir = Path.GetFullPath(args.Get("out") ?? "runs");
        var runId = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-s{config.Seed}";
        var runDir = Path.Combine(outDir, runId);

        AnsiConsole.MarkupLine($"[bold]MORLAIF run {runId}[/] on {device}: {config.Principles.Length} principles, scalarization [blue]{config.Scalarization}[/]");
        var run = new MorlaifRun(config, device, line => AnsiConsole.MarkupLineInterpolated($"[grey]{DateTime.Now:HH:mm:ss}[/] {line}"))
        {
            CheckpointDirectory = Path.Combine(runDir, "checkpoints"),
            OnPpoIteration = (arm, s) =>
            {
                if (s.Iteration % 5 == 0 || s.Iteration == config.Ppo.Iterations)
                    AnsiConsole.MarkupLineInterpolated($"[grey]{DateTime.Now:HH:mm:ss}[/]   PPO {arm} {s.Iteration}/{config.Ppo.Iterations}: score {s.MeanScore:F3}, KL {s.MeanKl:F3}, β {s.KlCoef:F4}");
            },
        };
        var report = run.Execute(runId);
        ReportFiles.Write(report, runDir);
        PrintSummary(report);
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(runDir, "report.md")}");
        return 0;
    }

    private static torch.Device ParseDevice(string text)
    {
        if (text == "cpu") return torch.CPU;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new UsageException($"option '--device {text}': CUDA is not available (this build's TorchBackend, or no GPU); see README 'GPU builds'");
            return torch.device(text);
        }
        throw new UsageException($"option '--device': '{text}' is not cpu or cuda[:N]");
    }

    private static void PrintSummary(RunReport r)
    {
        var c = CultureInfo.InvariantCulture;
        string P(double x) => (100 * x).ToString("F1", c) + "%";
        var table = new Table().AddColumns("measure", "value");
        var e = r.Evaluation;
        table.AddRow("MORLAIF vs baseline (true preference) win/tie/loss", $"{P(e.VsBaseline.Win)} / {P(e.VsBaseline.Tie)} / {P(e.VsBaseline.Loss)}");
        table.AddRow("MORLAIF vs baseline (judge, both orders) win/tie/loss", $"{P(e.JudgeVsBaseline.Win)} / {P(e.JudgeVsBaseline.Tie)} / {P(e.JudgeVsBaseline.Loss)}");
        foreach (var (k, v) in e.MeanTrueScore) table.AddRow($"mean true preference: {k}", v.ToString("F3", c));
        foreach (var (k, v) in r.ObjectiveAccuracy) table.AddRow($"objective accuracy: {k}", v.ToString("F3", c));
        foreach (var (k, v) in r.PreferenceModels) table.AddRow($"PM held-out accuracy: {k}", v.HeldOutAccuracy.ToString("F3", c));
        table.AddRow("total seconds", r.Timings["total"].ToString("F1", c));
        AnsiConsole.Write(table);
    }
}
