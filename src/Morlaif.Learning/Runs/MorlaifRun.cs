using System.Diagnostics;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using static TorchSharp.torch;

namespace Morlaif.Learning.Runs;

/// <summary>
/// MORLAIF end to end in one uninterrupted process, stage after stage, without messages or storage: the
/// library entry point, and the reference the distributed pipeline's results are tested against.
/// </summary>
public sealed class MorlaifRun(RunConfig config, Device device, Action<string>? log = null)
{
    private readonly Dictionary<string, double> _timings = new();
    private readonly Action<string> _log = log ?? (_ => { });

    public RunReport Execute(string runId, CancellationToken cancel = default)
    {
        var total = Stopwatch.StartNew();
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        var ctx = new RunContext(config, device);

        var (sft, sftLoss, demos) = Time("sft/train", () => SftStage.Train(ctx));
        _log($"SFT: {demos} demonstrations, final loss {sftLoss:F3}");
        cancel.ThrowIfCancellationRequested();

        var pairs = Time("sft/pairs", () => PairSamplingStage.Sample(ctx, sft));
        _timings["sft"] = _timings["sft/train"] + _timings["sft/pairs"];
        _log($"pairs: {pairs.Train.Count} train, {pairs.Test.Count} test");
        var labels = Time("label", () => ctx.Questions.ToDictionary(q => q, q => LabellingStage.Label(ctx, pairs, q)));

        var pms = new Dictionary<string, TrainedPreferenceModel>();
        Time("train-pm", () =>
        {
            foreach (var q in ctx.Questions)
            {
                cancel.ThrowIfCancellationRequested();
                var pm = PreferenceModelStage.Train(ctx, sft, pairs, labels[q]);
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
        foreach (var arm in new[] { ScalarizationStage.MorlaifArm, ScalarizationStage.BaselineArm })
        {
            (policies[arm], ppo[arm]) = Time($"ppo/{arm}", () =>
            {
                var (policy, stats) = PpoStage.Train(ctx, sft, ScalarizationStage.Reward(arm, ctx, fit, pms), cancel);
                _log($"PPO {arm}: score {stats.FirstOrDefault()?.MeanScore:F3} -> {stats.LastOrDefault()?.MeanScore:F3}, KL {stats.LastOrDefault()?.MeanKl:F3}");
                return (policy, (IReadOnlyList<PpoIterationStats>)stats);
            });
        }

        var evaluation = Time("evaluate", () => EvaluationStage.Evaluate(ctx, sft,
            policies[ScalarizationStage.MorlaifArm], policies[ScalarizationStage.BaselineArm]));
        _timings["total"] = total.Elapsed.TotalSeconds;

        return RunReport.Assemble(runId, ctx, (int)sft.parameters().Sum(p => p.numel()),
            pairs, labels.ToDictionary(kv => kv.Key, kv => kv.Value.OrdersDisagreed),
            pms.ToDictionary(kv => kv.Key, kv => kv.Value.Stats), fit, ppo, evaluation, _timings);
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
