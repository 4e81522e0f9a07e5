using System.CommandLine;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Evaluator;
using Spectre.Console;
using TorchSharp;

namespace Morlaif.Cli;

/// <summary>
/// morlaif run: the embedded default. All five workers in this process, on MassTransit's in-memory
/// transport and a local folder: the same consumers, messages and manifest as the distributed pipeline.
/// </summary>
public static class RunCommand
{
    private static readonly Option<string?> ConfigFile = CliOptions.Config("a run config (JSON; see README, Configuration); without it, the built-in defaults");
    private static readonly Option<string?> Out = CliOptions.Out("where DIR/<runId>/report.json, report.md and its charts go, and the run's store DIR/.store (default: ./runs)");
    private static readonly Option<long?> Seed = CliOptions.Seed("the run's seed, over the config's");
    private static readonly Option<string> Device = CliOptions.Device();
    private static readonly Option<bool> Dry = CliOptions.DryRun();
    private static readonly Option<bool> Verbose = CliOptions.Verbose();

    public static Command Create() => CliOptions.Command("run",
        "The embedded default: all five workers in this process on an in-memory bus and a local folder; writes the run's report.",
        "morlaif run --seed 2 --out runs", [ConfigFile, Out, Seed, Device, Dry, Verbose], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        // Everything that can be wrong with the input is checked before any work starts.
        var config = r.GetValue(ConfigFile) is { } path ? RunConfig.Load(path) : new RunConfig();
        if (r.GetValue(Seed) is { } seed) config = config.WithSeed(seed);
        if (r.GetValue(Dry)) return DryRun.Print(config);
        DryRun.Check(config);
        var device = ParseDevice(r.GetValue(Device)!);
        var outDir = Path.GetFullPath(r.GetValue(Out) ?? "runs");

        // The workers' log goes beside the report (and to the console with --verbose): the console shows progress.
        var runId = RunStarter.NewRunId(config);
        var runDir = Path.Combine(outDir, runId);
        var logFile = Path.Combine(runDir, "run.log");
        await using var pipeline = await EmbeddedPipeline.StartAsync(Path.Combine(outDir, ".store"), device, new CliLogging(r.GetValue(Verbose), logFile),
            EmbeddedPipeline.StageConcurrencyFor(config, device));
        await pipeline.StartRunAsync(config, runId);
        AnsiConsole.MarkupLineInterpolated($"[bold]MORLAIF run {runId}[/] on {device}: {config.Principles.Length} principles, scalarization [blue]{config.Scalarization}[/]; log: {logFile}");
        RunManifest manifest;
        try
        {
            manifest = await pipeline.FollowAsync(runId, config, pipeline.Stopping);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"morlaif: interrupted; run {runId} stopped (its artifacts so far are in {Path.Combine(outDir, ".store")})");
            return 130;
        }
        if (manifest.State == RunState.Faulted)
        {
            Console.Error.WriteLine($"morlaif: run {runId} faulted: {manifest.Error} (log: {logFile})");
            return 1;
        }
        var outputs = manifest.Stages[StageKeys.Evaluate].Outputs;
        var json = await pipeline.Store.GetAsync(outputs["report"]);
        await File.WriteAllBytesAsync(Path.Combine(runDir, "report.json"), json);
        await File.WriteAllBytesAsync(Path.Combine(runDir, "report.md"), await pipeline.Store.GetAsync(outputs["report-md"]));
        foreach (var (key, chart) in outputs.Where(o => o.Key.StartsWith(ReportChart.OutputPrefix, StringComparison.Ordinal)))
            await File.WriteAllBytesAsync(Path.Combine(runDir, ReportChart.FileOf(key)), await pipeline.Store.GetAsync(chart));
        var table = new Table().AddColumns("measure", "value");
        foreach (var (measure, value) in ReportFiles.Summary(ReportFiles.FromJson(json))) table.AddRow(Markup.Escape(measure), Markup.Escape(value));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(runDir, "report.md")}");
        return 0;
    }

    internal static string ParseDevice(string text)
    {
        if (text == "cpu") return text;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new UsageException($"option '--device {text}': CUDA is not available (this build's TorchBackend, or no GPU); see README 'GPU builds'");
            return text;
        }
        throw new UsageException($"option '--device': '{text}' is not cpu or cuda[:N]");
    }
}
