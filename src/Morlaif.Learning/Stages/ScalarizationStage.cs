using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>
/// The fan-in point: with every principle's PM, fit the principle weights on half of the decided pairs (the world's
/// held-out pairs against the true preference, or a text run's human pairs), measure every combined objective on the
/// other half, and build the reward each PPO arm optimises.
/// </summary>
public static class ScalarizationStage
{
    public const string MorlaifArm = "morlaif", BaselineArm = "baseline";

    public static ObjectiveFit Fit(RunContext ctx, PairSet pairs, IReadOnlyDictionary<string, TrainedPreferenceModel> pms)
    {
        var principles = ctx.Config.Principles;
        var decided = pairs.Test
            .Select(p => (p, d: GroundTruth.Score(Principle.Overall, p.Prompt, p.TextA) - GroundTruth.Score(Principle.Overall, p.Prompt, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9)
            .Select(x => (x.p.SequenceA(), x.p.SequenceB(), x.d > 0)).ToList();
        return Fit(principles, Multi(principles, pms, principles.Select(_ => 1.0).ToArray(), new WeightedLinear()), Reward(BaselineArm, ctx, null, pms), decided);
    }

    /// <summary>
    /// The fit on decided pairs, whatever decided them (the world's true preference, human labels): weights on the first
    /// half, every combined objective's accuracy and the single PM's on the second half, and the ablation.
    /// </summary>
    /// <param name="principleScores">the principle PMs, weight 1 each: only their normalised scores are read</param>
    /// <param name="single">the single-objective baseline's reward</param>
    public static ObjectiveFit Fit(IReadOnlyList<string> principles, PreferenceModelReward principleScores, IRewardModel single,
        IReadOnlyList<(int[] A, int[] B, bool AWins)> decided)
    {
        var half = decided.Count / 2;
        double[][] Rows(double[][] perPrinciple) =>
            Enumerable.Range(0, perPrinciple[0].Length).Select(n => perPrinciple.Select(s => s[n]).ToArray()).ToArray();
        var a = Rows(principleScores.NormalizedScores(decided.Select(x => x.A).ToList()));
        var b = Rows(principleScores.NormalizedScores(decided.Select(x => x.B).ToList()));
        var aWins = decided.Select(x => x.AWins).ToArray();
        var (fitA, fitB, fitW) = (a[..half], b[..half], aWins[..half]);
        var (testA, testB, testW) = (a[half..], b[half..], aWins[half..]);

        var weights = PrincipleWeights.Fit(principles, fitA, fitB, fitW);
        var accuracy = Scalarizers.All.ToDictionary(s => s.Name,
            s => ObjectiveAccuracy.Of(new ScalarizedReward(weights.Weights, s), testA, testB, testW));
        var singleA = single.Score(decided.Skip(half).Select(x => x.A).ToList());
        var singleB = single.Score(decided.Skip(half).Select(x => x.B).ToList());
        accuracy["single"] = testW.Select((w, i) => (singleA[i] > singleB[i]) == w ? 1.0 : 0.0).Average();

        var ablation = ObjectiveAccuracy.Ablation(principles, (fitA, fitB, fitW), (testA, testB, testW))
            .Select(x => new AblationPoint(x.Principles, x.Accuracy)).ToList();
        return new ObjectiveFit(principles, weights.Weights, weights.StandardizedCoefficients, accuracy, ablation);
    }

    /// <summary>
    /// The reward of an arm: MORLAIF combines the principle PMs with the fitted weights and the configured
    /// function; the baseline is the single-objective PM (constitution or overall), weight 1.
    /// </summary>
    public static PreferenceModelReward Reward(string arm, RunContext ctx, ObjectiveFit? fit, IReadOnlyDictionary<string, TrainedPreferenceModel> pms) => arm switch
    {
        MorlaifArm => Multi(ctx.Config.Principles, pms,
            fit?.Weights ?? throw new ArgumentNullException(nameof(fit), "the MORLAIF reward needs the fitted weights"),
            Scalarizers.Get(ctx.Config.Scalarization)),
        BaselineArm => Multi([ctx.Config.Baseline], pms, [1.0], new WeightedLinear()),
        _ => throw new ArgumentException($"unknown arm '{arm}' (known: {MorlaifArm}, {BaselineArm})", nameof(arm)),
    };

    private static PreferenceModelReward Multi(IReadOnlyList<string> questions, IReadOnlyDictionary<string, TrainedPreferenceModel> pms,
        IReadOnlyList<double> weights, IScalarizer scalarizer) =>
        new(questions.Select(q => PrincipleScorer.Of(pms[q].Model, pms[q].Normalizer)).ToList(), new ScalarizedReward(weights, scalarizer));
}
