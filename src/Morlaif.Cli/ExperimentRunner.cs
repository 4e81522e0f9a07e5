using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Morlaif.Learning.Experiments;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Cli;

/// <summary>
/// Runs an experiment's cells in this process, each as one pipeline run on the <see cref="EmbeddedPipeline"/> (the
/// stages, their order and their outputs are the pipeline's; a cell's arms share its SFT, labels and PMs), then takes
/// each cell's results from the run's report and artifacts. A rerun skips every cell whose results are on disk, and
/// reads a finished run's results again rather than training it twice.
/// </summary>
/// <param name="log">the runner's own lines (a cell started, finished, skipped)</param>
/// <param name="logging">where the workers' log goes; absent: the file experiment.log beside the results</param>
/// <param name="progress">each cell's run's progress on the console (<see cref="ProgressView"/>)</param>
public sealed class ExperimentRunner(RunConfig run, string root, string device, Action<string>? log = null, CliLogging? logging = null, bool progress = false)
{
    private readonly Action<string> _log = log ?? (_ => { });
    private string? _machine;

    /// <summary>Torch's intra-op threads per stage message: fixed, so a cell's floats do not depend on the core count.</summary>
    public const int ThreadsPerStage = 1;

    /// <summary>"AMD EPYC 7B13, AVX2 (no AVX-512), 1 torch thread per stage message, 2 at once": what a cell's floats depend on.</summary>
    public static string MachineDescription(int concurrency)
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
        string? Field(string name) => cpuinfo.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var flags = (Field("flags") ?? "").Split(' ');
        var isa = flags.Contains("avx512f") ? "AVX-512" : flags.Contains("avx2") ? "AVX2 (no AVX-512)" : "no AVX2";
        return $"{Field("model name") ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}, {isa}, " +
            $"{TorchSharp.torch.get_num_threads()} torch thread per stage message, {concurrency} at once";
    }

    public async Task RunAsync(IReadOnlyList<ExperimentCell> asked, CancellationToken cancel = default)
    {
        var cells = Merged(asked);
        var todo = cells.Select((c, i) => (Cell: c, Index: i)).Where(x => !new CellFiles(root, x.Cell).Complete).ToList();
        foreach (var (cell, i) in cells.Select((c, i) => (c, i)).Except(todo)) _log($"[{i + 1}/{cells.Count}] {cell.Id}: done before, skipped");
        if (todo.Count == 0) return;
        // The workers log only what goes wrong: the experiment prints one line per cell.
        var concurrency = EmbeddedPipeline.StageConcurrencyFor(run, device);
        await using var pipeline = await EmbeddedPipeline.StartAsync(Path.Combine(root, ".store"), device,
            logging ?? new CliLogging(Console: false, File: Path.Combine(root, "experiment.log")), concurrency);
        // A float sum's order follows the intra-op thread count, so results would follow the machine's cores: an
        // experiment computes every stage message on one thread, whatever the machine, and records it with the CPU.
        TorchSharp.torch.set_num_threads(ThreadsPerStage);
        _machine = MachineDescription(concurrency);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, pipeline.Stopping);
        foreach (var (cell, i) in todo)
        {
            var clock = Stopwatch.StartNew();
            _log($"[{i + 1}/{cells.Count}] {cell.Id}: {string.Join(", ", cell.Arms)}");
            await RunCellAsync(pipeline, cell, stop.Token);
            _log($"[{i + 1}/{cells.Count}] {cell.Id}: {clock.Elapsed.TotalSeconds:F0} s");
        }
    }

    private async Task RunCellAsync(EmbeddedPipeline pipeline, ExperimentCell cell, CancellationToken cancel)
    {
        var config = cell.PipelineConfig(run);
        var manifest = await RunAsync(pipeline, config, RunId(cell, config), progress, cancel);
        var outputs = manifest.Stages[StageKeys.Evaluate].Outputs;
        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(outputs[StageOutputs.Report], cancel));
        var fit = ObjectiveFit.FromJson(await pipeline.Store.GetAsync(manifest.Stages[StageKeys.Scalarize].Outputs[StageOutputs.Objective], cancel));
        var files = new CellFiles(root, cell);

        var control = PmQuestions.Control(cell.Baseline);
        // An arm's own PPO time, its chunks' wall times summed: the report's timing spans the arm's first chunk to its last,
        // which holds the other arms' chunks run in between (one PPO message at a time, the arms' chunks in turn).
        double PpoSeconds(string arm) => arm == EvaluationStage.Sft ? 0
            : StageKeys.PpoChunkStarts(config.ForArm(config.Arm(arm)).Ppo).Sum(start => manifest.Stages.GetValueOrDefault(StageKeys.PpoChunk(arm, start))?.ElapsedSeconds ?? 0);
        var ppoSeconds = cell.Arms.Sum(PpoSeconds);
        CellFiles.Write(files.ControlPath, new ControlResult(cell.Seed, cell.Budget, cell.Baseline, fit.Accuracy[ScalarizationStage.ControlArm],
            fit.CorrectBits![ScalarizationStage.ControlArm], report.PreferenceModels[control], manifest.Stages[StageKeys.TrainPm(control)].ElapsedSeconds ?? 0));
        CellFiles.Write(files.FitPath, new FitResult(cell.Seed, cell.Budget, cell.Baseline,
            fit.Accuracy.Where(kv => kv.Key != ScalarizationStage.ControlArm).ToDictionary(),
            fit.CorrectBits.Where(kv => kv.Key != ScalarizationStage.ControlArm).ToDictionary(), fit.Ablation,
            report.PreferenceModels.Where(kv => kv.Key != control).ToDictionary(), report.Weights, Math.Max(0, report.Timings["total"] - ppoSeconds), _machine));
        _log($"  {cell.Id}: linear {fit.Accuracy["linear"]:F3}, single {fit.Accuracy["single"]:F3}");
        if (!cell.HasPolicies) return;

        var truths = JsonSerializer.Deserialize<PolicyTruths>(await pipeline.Store.GetAsync(outputs[StageOutputs.Truths], cancel), RunConfig.Json)!;
        foreach (var arm in cell.Arms)
        {
            var truth = truths.Truth[arm];
            CellFiles.Write(files.PolicyPath(arm), new PolicyResult(cell.Seed, cell.Budget, cell.Baseline, arm, truth,
                report.Ppo.GetValueOrDefault(arm) ?? [], PpoSeconds(arm), truths.Samples, truths.Unseen) { Path = truths.Path?.GetValueOrDefault(arm) });
            _log($"  {cell.Id}: {arm} mean true preference {truth.Average():F3}");
        }
    }

    /// <summary>
    /// The cell's run, finished: read again when an earlier invocation finished it; otherwise started afresh under the
    /// next free attempt id (a run an interrupted invocation left unfinished is left as it is).
    /// </summary>
    private static async Task<RunManifest> RunAsync(EmbeddedPipeline pipeline, RunConfig config, string baseId, bool progress, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            var runId = attempt == 1 ? baseId : $"{baseId}-{attempt}";
            var existing = await pipeline.Manifests.ReadAsync(runId, cancel);
            if (existing is { State: RunState.Completed }) return existing;
            if (existing is not null) continue;
            await pipeline.StartRunAsync(config, runId);
            var manifest = progress ? await pipeline.FollowAsync(runId, config, cancel) : await pipeline.WaitAsync(runId, cancel);
            return manifest.State == RunState.Completed ? manifest : throw new InvalidOperationException($"run {runId} faulted: {manifest.Error}");
        }
    }

    /// <summary>
    /// One cell per id, in the order first named, with every policy any grid asks of it: its arms train in one run, on
    /// the same PMs.
    /// </summary>
    private static List<ExperimentCell> Merged(IReadOnlyList<ExperimentCell> cells) =>
    [
        .. cells.GroupBy(c => c.Id).Select(g => g.First() with
        {
            Scalarizations = [.. g.SelectMany(c => c.Scalarizations).Distinct()],
            BaselineArms = [.. g.SelectMany(c => c.BaselineArms).Distinct()],
            ArmPpo = g.Any(c => c.ArmPpo is not null)
                ? g.SelectMany(c => c.ArmPpo ?? new Dictionary<string, Learning.Ppo.PpoSettings>()).DistinctBy(v => v.Key).ToDictionary()
                : null,
            PpoVariants = g.Any(c => c.PpoVariants is not null)
                ? g.SelectMany(c => c.PpoVariants ?? new Dictionary<string, Learning.Ppo.PpoSettings>()).DistinctBy(v => v.Key).ToDictionary()
                : null,
        }),
    ];

    /// <summary>The cell's id and a digest of its whole config: a changed config is another run.</summary>
    private static string RunId(ExperimentCell cell, RunConfig config) =>
        $"{cell.Id}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(config, RunConfig.Json))))[..8]}";
}
