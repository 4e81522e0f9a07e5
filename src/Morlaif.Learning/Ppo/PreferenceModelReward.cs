using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Ppo;

/// <summary>One principle's PM as the reward sees it: its raw scores of whole sequences, and its normaliser (whatever the model family).</summary>
public sealed record PrincipleScorer(IPreferenceScorer Model, ScoreNormalizer Normalizer)
{
    public double[] Score(IReadOnlyList<int[]> sequences) => Model.ScoreAll(sequences);
}

/// <summary>
/// The reward PPO optimises: each principle's PM scores the sequence, the score is normalised with that
/// PM's statistics, and the scalarized reward combines them. The single-objective baseline is the same
/// thing with one PM, weight 1 and the linear function.
/// </summary>
public sealed class PreferenceModelReward(IReadOnlyList<PrincipleScorer> models, ScalarizedReward objective) : IRewardModel
{
    public double[] Score(IReadOnlyList<int[]> sequences)
    {
        var perPrinciple = NormalizedScores(sequences);
        return Enumerable.Range(0, sequences.Count)
            .Select(n => objective.Reward(perPrinciple.Select(s => s[n]).ToArray()))
            .ToArray();
    }

    /// <summary>Normalised scores, one array per principle.</summary>
    public double[][] NormalizedScores(IReadOnlyList<int[]> sequences) =>
        models.Select(m => m.Score(sequences).Select(m.Normalizer.Normalize).ToArray()).ToArray();
}
