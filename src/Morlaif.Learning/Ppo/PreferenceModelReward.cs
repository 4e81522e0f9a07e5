using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Ppo;

/// <summary>One question's PM as the reward sees it: its raw scores of whole sequences, and its normaliser (whatever the model family).</summary>
public sealed record PrincipleScorer(string Question, IPreferenceScorer Model, ScoreNormalizer Normalizer)
{
    public double[] Score(IReadOnlyList<int[]> sequences) => Model.ScoreAll(sequences);

    /// <summary>
    /// Raw scores of the same <paramref name="sequences"/> under every one of <paramref name="models"/>, one array each: in
    /// one go where the models can share work (<see cref="IJointPreferenceScorer"/>), else one model at a time.
    /// </summary>
    public static double[][] ScoreAll(IReadOnlyList<PrincipleScorer> models, IReadOnlyList<int[]> sequences) =>
        models is [{ Model: IJointPreferenceScorer joint }, _, ..] && joint.ScoreTogether([.. models.Select(m => m.Model)], sequences) is { } together
            ? together
            : [.. models.Select(m => m.Score(sequences))];
}

/// <summary>
/// A PM that scores sequences together with other PMs of its family for less than each alone: the principle PMs of one
/// <see cref="HuggingFace.Lora.HfPreferenceModel"/> share the base's frozen layers below their adapters; the world's
/// separate small PMs (<see cref="Models.PreferenceModel"/>) run side by side on cores their own passes leave idle.
/// </summary>
public interface IJointPreferenceScorer
{
    /// <summary>Raw scores of <paramref name="sequences"/> under each of <paramref name="models"/>, in order; null unless all are of this PM's family.</summary>
    double[][]? ScoreTogether(IReadOnlyList<IPreferenceScorer> models, IReadOnlyList<int[]> sequences);
}

/// <summary>
/// The reward PPO optimises: each principle's PM scores the sequence, the score is normalised with that
/// PM's statistics, and the scalarized reward combines them. The single-objective baseline is the same
/// thing with one PM, weight 1 and the linear function.
/// </summary>
public sealed class PreferenceModelReward(IReadOnlyList<PrincipleScorer> models, ScalarizedReward objective) : IRewardModel
{
    public IReadOnlyList<PrincipleScorer> Models => models;

    public double[] Score(IReadOnlyList<int[]> sequences) => Combine(NormalizedScores(sequences));

    /// <summary>
    /// With "group" normalisation each principle's raw scores are standardised within each run of <paramref name="group"/>
    /// rollouts (GDPO's per-reward normalisation) before the scalarizer; "fixed" is <see cref="Score"/>.
    /// </summary>
    public RolloutRewards ScoreRollouts(IReadOnlyList<int[]> sequences, int group, string normalization)
    {
        var raw = PrincipleScorer.ScoreAll(models, sequences);
        var normalized = models.Select((m, i) => raw[i].Select(m.Normalizer.Normalize).ToArray()).ToArray();
        var principles = models.Select((m, i) => (m.Question, Reward: PrincipleReward.Of(normalized[i])))
            .ToDictionary(x => x.Question, x => x.Reward, StringComparer.Ordinal);
        var combined = normalization == RewardNormalization.Group ? raw.Select(r => GroupAdvantages.Standardized(r, group)).ToArray() : normalized;
        return new RolloutRewards(Combine(combined), principles);
    }

    /// <summary>Normalised scores, one array per principle.</summary>
    public double[][] NormalizedScores(IReadOnlyList<int[]> sequences) =>
        [.. PrincipleScorer.ScoreAll(models, sequences).Select((raw, i) => raw.Select(models[i].Normalizer.Normalize).ToArray())];

    private double[] Combine(double[][] perPrinciple) => Enumerable.Range(0, perPrinciple[0].Length)
        .Select(n => objective.Reward(perPrinciple.Select(s => s[n]).ToArray()))
        .ToArray();
}
