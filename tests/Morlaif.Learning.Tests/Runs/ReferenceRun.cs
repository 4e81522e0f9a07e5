using System.Diagnostics;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Runs;

/// <summary>
/// The world's stages called one after the other in one uninterrupted process, without messages or storage: the oracle
/// the pipeline's results are tested against (the pipeline, in-memory or distributed, is what `morlaif run` runs).
/// </summary>
public sealed class ReferenceRun(RunConfig config, Device device, Action<string>? log = null)
{
    private readonly Dictionary<string, double> _timings = new();
    private readonly Action<string> _log = log ?? (_ => { });

    public RunReport Execute(string runId, CancellationToken cancel = default)
    {
        var total = Stopwatch.StartNew();
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        var ctx = new WorldRun(config, device);

        var (sft, sftLoss, demos) = Time("sft/train", () => SftStage.Train(ctx));
        _log($"SFT: {demos} demonstrations, final loss {sftLoss:F3}");
        cancel.ThrowIfCancellationRequested();

        var pairs = Time("sft/pairs", () => ctx.SamplePairs(sft));
        _timings["sft"] = _timings["sft/train"] + _timings["sft/pairs"];
        _log($"pairs: {pairs.Train.Count} train, {pairs.Test.Count} test");
        var labels = Time("label", () => ctx.Questions.ToDictionary(q => q, q => LabellingStage.Label(ctx, pairs, q)));

        var pms = new Dictionary<string, TrainedPreferenceModel>();
        Time("train-pm", () =>
        {
            foreach (var q in PmQuestions.All(config))
            {
                cancel.ThrowIfCancellationRequested();
                var pm = PreferenceModelStage.Train(ctx, sft, pairs, q, [.. PmQuestions.TrainedOn(q, config).Labels.Select(l => labels[l])]);
                pms[q] = pm;
                _log($"PM {q}: held-out accuracy {pm.Stats.HeldOutAccuracy:F3} (vs ground truth {pm.Stats.GroundTruthAccuracy:F3})");
            }
            return 0;
        });

        var fit = Time("scalarize", () => ScalarizationStage.Fit(ctx, pairs, pms));
        _log($"weights: {string.Join(", ", fit.Principles.Select((p, i) => $"{p} {fit.Weights[i]:F2}"))}");
        _log($"objective accuracy: {string.Join(", ", fit.Accuracy.Select(kv => $"{kv.Key} {kv.Value:F3}"))}");

        var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
        var policies = new Dictionary<string, PolicyModel>();
        foreach (var spec in config.PolicyArms)
        {
            // Each arm under its own config: its scalarization and PPO settings (algorithm included).
            var arm = spec.Name;
            var armCtx = config.ForArm(spec) == config ? ctx : new WorldRun(config.ForArm(spec), device);
            (policies[arm], ppo[arm]) = Time($"ppo/{arm}", () =>
            {
                var (policy, stats) = PpoStage.Train(armCtx, sft, ScalarizationStage.Reward(spec.Reward, armCtx, fit, pms), cancel);
                _log($"PPO {arm}: score {stats.FirstOrDefault()?.MeanScore:F3} -> {stats.LastOrDefault()?.MeanScore:F3}, KL {stats.LastOrDefault()?.MeanKl:F3}");
                return (policy, (IReadOnlyList<PpoIterationStats>)stats);
            });
        }

        var compared = config.ComparedArms!.Value;
        var (evaluation, _) = Time("evaluate", () => WorldEvaluation.Evaluate(ctx, sft, policies, compared.Morlaif.Name, compared.Baseline.Name));
        _timings["total"] = total.Elapsed.TotalSeconds;

        var judge = new JudgeStats(pairs.Train.Count, pairs.Test.Count, labels.ToDictionary(kv => kv.Key, kv => kv.Value.OrdersDisagreed));
        return RunReport.Assemble(runId, config, device.ToString(), judge, pms.ToDictionary(kv => kv.Key, kv => kv.Value.Stats), fit, ppo, evaluation, _timings)
            with { World = WorldDescription.Of(ctx, (int)sft.parameters().Sum(p => p.numel())) };
    }

    private T Time<T>(string stage, Func<T> work)
    {
        var sw = Stopwatch.StartNew();
        _log($"stage {stage} ...");
        var result = work();
        _timings[stage] = sw.Elapsed.TotalSeconds;
        return result;
    }
}
