using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>
/// The fan-in point: with every principle's PM, fit the principle weights on human-labelled pairs (the world's simulated
/// raters, or half of a text run's human pairs), measure every combined objective and the single PM on other pairs (the
/// world's truth-decided pairs, or the other half), run the ablation, and build the reward each PPO arm optimises.
/// </summary>
public static class ScalarizationStage
{
    public const string MorlaifArm = "morlaif", BaselineArm = "baseline";

    /// <summary>
    /// The experiment's control: the baseline's PM trained on its AI labels plus the same human labels MORLAIF fits its
    /// weights on, so that the human labels are not a gift to one side only.
    /// </summary>
    public const string ControlArm = "baseline-human";

    /// <summary>
    /// The matched-budget baselines (<see cref="RunConfig.MatchedBudget"/>): as many judge calls as MORLAIF's, as one PM on
    /// the pooled labels ("as many labels"), or as the mean of one PM per draw ("an ensemble" of as many PMs as MORLAIF's).
    /// </summary>
    public const string PooledArm = "baseline-pooled", EnsembleArm = "baseline-ensemble";

    /// <summary>The baselines only a world run has: their PMs learn from its simulated raters or its drawn principles.</summary>
    public static readonly string[] WorldBaselineArms = [ControlArm, PooledArm, EnsembleArm];

    /// <summary>How many random removal orders the ablation averages over.</summary>
    public const int AblationOrders = 20;

    public static ObjectiveFit Fit(WorldRun ctx, PairSet<SyntheticPrompt> pairs, IReadOnlyDictionary<string, TrainedPreferenceModel> pms)
    {
        var pm = Scorers(pms);
        // The other baselines the run trains (the control, the matched budgets) are measured on the same pairs as the objectives.
        var baselines = WorldBaselineArms.Where(arm => RewardQuestions(arm, ctx.Config).All(pms.ContainsKey))
            .ToDictionary(arm => arm, arm => (IRewardModel)Reward(arm, ctx.Config, null, pm));
        return Fit(ctx.Config.Principles, PrincipleScores(ctx.Config.Principles, pm), Reward(BaselineArm, ctx.Config, null, pm),
            HumanLabelled(ctx, pairs), TruthDecided(pairs), ctx.Seed("ablation"), baselines);
    }

    /// <summary>The principle PMs with weight 1 each: what the fit reads their normalised scores from.</summary>
    public static PreferenceModelReward PrincipleScores(IReadOnlyList<string> principles, Func<string, PrincipleScorer> pm) =>
        new([.. principles.Select(pm)], new ScalarizedReward([.. principles.Select(_ => 1.0)], new WeightedLinear()));

    private static double Truth(ResponsePair<SyntheticPrompt> p, string text) => GroundTruth.Score(Principle.Overall, p.Prompt, text);

    /// <summary>The human pairs as the simulated raters label them: every pair, ties in truth included (a coin flip), as real raters would.</summary>
    public static List<(int[] A, int[] B, bool AWins)> HumanLabelled(WorldRun ctx, PairSet<SyntheticPrompt> pairs)
    {
        var raters = new Random(ctx.Seed("raters"));
        return [.. pairs.Human.Select(p => (p.SequenceA(), p.SequenceB(), SimulatedRaters.Rate(Truth(p, p.TextA), Truth(p, p.TextB), raters)))];
    }

    /// <summary>The accuracy pairs the noise-free truth decides (ties left out): every objective's accuracy is measured on them.</summary>
    public static List<(int[] A, int[] B, bool AWins)> TruthDecided(PairSet<SyntheticPrompt> pairs) =>
    [
        .. pairs.Accuracy
            .Select(p => (p, d: Truth(p, p.TextA) - Truth(p, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9)
            .Select(x => (x.p.SequenceA(), x.p.SequenceB(), x.d > 0)),
    ];

    /// <summary>Per pair, whether a single reward ranks it as <paramref name="AWins"/> says.</summary>
    public static bool[] Correct(IRewardModel reward, IReadOnlyList<(int[] A, int[] B, bool AWins)> on)
    {
        var a = reward.Score(on.Select(x => x.A).ToList());
        var b = reward.Score(on.Select(x => x.B).ToList());
        return [.. on.Select((x, i) => (a[i] > b[i]) == x.AWins)];
    }

    /// <summary>A text run's fit: the weights on the first half of its decided human pairs, every accuracy on the second.</summary>
    public static ObjectiveFit Fit(IReadOnlyList<string> principles, PreferenceModelReward principleScores, IRewardModel single,
        IReadOnlyList<(int[] A, int[] B, bool AWins)> decided, int ablationSeed)
    {
        var half = decided.Count / 2;
        return Fit(principles, principleScores, single, decided.Take(half).ToList(), decided.Skip(half).ToList(), ablationSeed);
    }

    /// <param name="principleScores">the principle PMs, weight 1 each: only their normalised scores are read</param>
    /// <param name="single">the single-objective baseline's reward</param>
    /// <param name="fitOn">the pairs the weights are fitted on, with who won</param>
    /// <param name="testOn">the pairs every objective's accuracy is measured on</param>
    /// <param name="baselines">the other baselines' rewards by arm (<see cref="WorldBaselineArms"/>), each measured under its arm's name</param>
    public static ObjectiveFit Fit(IReadOnlyList<string> principles, PreferenceModelReward principleScores, IRewardModel single,
        IReadOnlyList<(int[] A, int[] B, bool AWins)> fitOn, IReadOnlyList<(int[] A, int[] B, bool AWins)> testOn, int ablationSeed,
        IReadOnlyDictionary<string, IRewardModel>? baselines = null)
    {
        (double[][] A, double[][] B, bool[] AWins) Scored(IReadOnlyList<(int[] A, int[] B, bool AWins)> set)
        {
            double[][] Rows(double[][] perPrinciple) =>
                Enumerable.Range(0, perPrinciple[0].Length).Select(n => perPrinciple.Select(s => s[n]).ToArray()).ToArray();
            return (Rows(principleScores.NormalizedScores(set.Select(x => x.A).ToList())), Rows(principleScores.NormalizedScores(set.Select(x => x.B).ToList())),
                set.Select(x => x.AWins).ToArray());
        }
        var (fitA, fitB, fitW) = Scored(fitOn);
        var (testA, testB, testW) = Scored(testOn);

        var weights = PrincipleWeights.Fit(principles, fitA, fitB, fitW);
        var correct = Scalarizers.All.ToDictionary(s => s.Name, s => ObjectiveAccuracy.Correct(new ScalarizedReward(weights.Weights, s), testA, testB, testW));
        correct["single"] = Correct(single, testOn);
        foreach (var (arm, reward) in baselines ?? new Dictionary<string, IRewardModel>()) correct[arm] = Correct(reward, testOn);
        var accuracy = correct.ToDictionary(kv => kv.Key, kv => kv.Value.Average(c => c ? 1.0 : 0.0));

        var ablation = ObjectiveAccuracy.Ablation(principles, (fitA, fitB, fitW), (testA, testB, testW), AblationOrders, new Random(ablationSeed));
        return new ObjectiveFit(principles, weights.Weights, weights.StandardizedCoefficients, accuracy, ablation, fitOn.Count, testOn.Count) { Correct = correct };
    }

    /// <summary>
    /// The reward of an arm, whatever the model family (<paramref name="pm"/> gives a question's PM as a scorer): MORLAIF
    /// combines the principle PMs with the fitted weights and the configured function; the baseline is the single-objective
    /// PM (constitution or overall), weight 1, as are the control (the baseline's PM trained with the human labels too) and
    /// the pooled PM; the ensemble is the mean of its draws' PMs (each PM's score normalised, as MORLAIF's are).
    /// </summary>
    public static PreferenceModelReward Reward(string arm, RunConfig config, ObjectiveFit? fit, Func<string, PrincipleScorer> pm)
    {
        PrincipleScorer[] scorers = [.. RewardQuestions(arm, config).Select(pm)];
        return new(scorers, arm == MorlaifArm
            ? new ScalarizedReward(fit?.Weights ?? throw new ArgumentNullException(nameof(fit), "the MORLAIF reward needs the fitted weights"),
                Scalarizers.Get(config.Scalarization))
            : new ScalarizedReward([.. scorers.Select(_ => 1.0 / scorers.Length)], new WeightedLinear()));
    }

    /// <summary>The questions whose PMs an arm's reward (<see cref="Reward(string, RunConfig, ObjectiveFit?, Func{string, PrincipleScorer})"/>) scores with, in order.</summary>
    public static IReadOnlyList<string> RewardQuestions(string arm, RunConfig config) => arm switch
    {
        MorlaifArm => config.Principles,
        BaselineArm => [config.Baseline],
        ControlArm => [PmQuestions.Control(config.Baseline)],
        PooledArm => [PmQuestions.Pooled(config.Baseline)],
        EnsembleArm => [.. Enumerable.Range(1, config.Principles.Length).Select(k => PmQuestions.Draw(config.Baseline, k))],
        _ => throw new ArgumentException($"unknown arm '{arm}' (known: {MorlaifArm}, {BaselineArm}, {string.Join(", ", WorldBaselineArms)})", nameof(arm)),
    };

    /// <summary>The world's reward of an arm, from its trained PMs.</summary>
    public static PreferenceModelReward Reward(string arm, WorldRun ctx, ObjectiveFit? fit, IReadOnlyDictionary<string, TrainedPreferenceModel> pms) =>
        Reward(arm, ctx.Config, fit, Scorers(pms));

    /// <summary>The world's trained PMs as scorers, by question.</summary>
    public static Func<string, PrincipleScorer> Scorers(IReadOnlyDictionary<string, TrainedPreferenceModel> pms) =>
        q => new PrincipleScorer(q, pms[q].Model, pms[q].Normalizer);
}
