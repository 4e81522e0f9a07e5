using System.Diagnostics;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Experiments;

/// <summary>
/// Runs an experiment's cells in this process, in order, skipping every cell whose results are already on disk (a rerun
/// resumes). Within a cell the stages every policy shares (SFT, pairs, labels, PMs, weights, the baseline's PPO) run
/// once; each MORLAIF policy is then the same run config with its scalarization, exactly as a single run would train it.
/// </summary>
public sealed class ExperimentRunner(RunConfig run, string root, Device device, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    public void Run(IReadOnlyList<ExperimentCell> cells, CancellationToken cancel = default)
    {
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        for (var i = 0; i < cells.Count; i++)
        {
            var files = new CellFiles(root, cells[i]);
            if (files.Complete)
            {
                _log($"[{i + 1}/{cells.Count}] {cells[i].Id}: done before, skipped");
                continue;
            }
            var clock = Stopwatch.StartNew();
            RunCell(cells[i], files, cancel);
            _log($"[{i + 1}/{cells.Count}] {cells[i].Id}: {clock.Elapsed.TotalSeconds:F0} s");
        }
    }

    private void RunCell(ExperimentCell cell, CellFiles files, CancellationToken cancel)
    {
        var config = cell.Config(run);
        var ctx = new WorldRun(config, device);
        var clock = Stopwatch.StartNew();
        using var sft = Sft(ctx, files);
        var pms = new Dictionary<string, TrainedPreferenceModel>();
        try
        {
            ObjectiveFit fit;
            PairSet<SyntheticPrompt>? pairs = null;
            PairSet<SyntheticPrompt> Pairs() => pairs ??= ctx.SamplePairs(sft);
            // The baseline's labels serve its PM and the control's: asked once.
            var labels = new Dictionary<string, LabelSet>();
            LabelSet Labels(string question) => labels.TryGetValue(question, out var l) ? l : labels[question] = LabellingStage.Label(ctx, Pairs(), question);
            if (File.Exists(files.FitPath) && File.Exists(files.ObjectivePath) && ctx.Questions.All(q => File.Exists(files.PmPath(q))))
            {
                foreach (var q in ctx.Questions) pms[q] = TrainedPreferenceModel.FromBytes(File.ReadAllBytes(files.PmPath(q)), ctx);
                fit = ObjectiveFit.FromJson(File.ReadAllBytes(files.ObjectivePath));
            }
            else
            {
                foreach (var q in ctx.Questions)
                {
                    cancel.ThrowIfCancellationRequested();
                    pms[q] = PreferenceModelStage.Train(ctx, sft, Pairs(), Labels(q));
                    CellFiles.WriteBytes(files.PmPath(q), pms[q].ToBytes());
                }
                fit = ScalarizationStage.Fit(ctx, Pairs(), pms);
                CellFiles.WriteBytes(files.ObjectivePath, fit.ToJson());
                files.Write(files.FitPath, new FitResult(cell.Seed, cell.Budget, cell.Baseline, fit.Accuracy,
                    fit.Correct!.ToDictionary(kv => kv.Key, kv => Bits(kv.Value)), fit.Ablation,
                    pms.ToDictionary(kv => kv.Key, kv => kv.Value.Stats), fit.Principles.Select((p, i) => (p, w: fit.Weights[i])).ToDictionary(x => x.p, x => x.w),
                    clock.Elapsed.TotalSeconds));
                _log($"  {cell.Id}: linear {fit.Accuracy["linear"]:F3}, single {fit.Accuracy["single"]:F3} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
            Control(ctx, cell, files, sft, Pairs, Labels, pms, cancel);

            var set = WorldEvaluation.Prompts(ctx);
            foreach (var arm in cell.Arms.Where(a => !File.Exists(files.PolicyPath(a))))
            {
                cancel.ThrowIfCancellationRequested();
                var armClock = Stopwatch.StartNew();
                List<PpoIterationStats> stats = [];
                PolicyModel? trained = null;
                var (policy, _) = ExperimentCell.ParseArm(arm);
                if (policy != "sft")
                {
                    var reward = policy is ScalarizationStage.BaselineArm or ScalarizationStage.ControlArm ? policy : ScalarizationStage.MorlaifArm;
                    var armConfig = cell.ArmConfig(run, arm);
                    var armCtx = armConfig == config ? ctx : new WorldRun(armConfig, device);
                    (trained, stats) = PpoStage.Train(armCtx, sft, ScalarizationStage.Reward(reward, armCtx, fit, pms), cancel);
                }
                using (trained)
                {
                    var truth = WorldEvaluation.Responses(ctx, set.Items, trained ?? sft).Select((r, i) => GroundTruth.Score(Principle.Overall, set.Items[i], r)).ToList();
                    files.Write(files.PolicyPath(arm), new PolicyResult(cell.Seed, cell.Budget, cell.Baseline, arm, truth, stats, armClock.Elapsed.TotalSeconds,
                        set.Samples, set.Unseen));
                    _log($"  {cell.Id}: {arm} mean true preference {truth.Average():F3} ({armClock.Elapsed.TotalSeconds:F0} s)");
                }
            }
        }
        finally
        {
            foreach (var pm in pms.Values) pm.Model.Dispose();
        }
    }

    /// <summary>
    /// The control PM (the baseline's question on its AI labels plus the human labels): trained once per cell, scored on
    /// the same truth-decided pairs as the objectives, kept beside the PMs for the control policy.
    /// </summary>
    private static void Control(WorldRun ctx, ExperimentCell cell, CellFiles files, PolicyModel sft, Func<PairSet<SyntheticPrompt>> pairs,
        Func<string, LabelSet> labels, Dictionary<string, TrainedPreferenceModel> pms, CancellationToken cancel)
    {
        var question = ScalarizationStage.ControlQuestion(cell.Baseline);
        if (File.Exists(files.ControlPath) && File.Exists(files.PmPath(question)))
        {
            pms[question] = TrainedPreferenceModel.FromBytes(File.ReadAllBytes(files.PmPath(question)), ctx);
            return;
        }
        cancel.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        pms[question] = PreferenceModelStage.TrainControl(ctx, sft, pairs(), labels(cell.Baseline));
        CellFiles.WriteBytes(files.PmPath(question), pms[question].ToBytes());
        var correct = ScalarizationStage.Correct(ScalarizationStage.Reward(ScalarizationStage.ControlArm, ctx, null, pms), ScalarizationStage.TruthDecided(pairs()));
        files.Write(files.ControlPath, new ControlResult(cell.Seed, cell.Budget, cell.Baseline, correct.Average(c => c ? 1.0 : 0.0), Bits(correct),
            pms[question].Stats, clock.Elapsed.TotalSeconds));
    }

    private static string Bits(IEnumerable<bool> correct) => new([.. correct.Select(c => c ? '1' : '0')]);

    /// <summary>The seed's SFT policy: trained once per seed, whatever the cell (it depends on the seed and the sft settings alone).</summary>
    private static PolicyModel Sft(WorldRun ctx, CellFiles files)
    {
        if (File.Exists(files.SftPath)) return PolicyModel.FromBytes(File.ReadAllBytes(files.SftPath), ctx.Device);
        var (sft, _, _) = SftStage.Train(ctx);
        CellFiles.WriteBytes(files.SftPath, sft.ToBytes());
        return sft;
    }
}
