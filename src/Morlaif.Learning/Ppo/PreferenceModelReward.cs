using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Models;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Ppo;

/// <summary>One principle's PM as the reward sees it: raw scores of whole sequences, and that PM's normaliser.</summary>
public sealed record PrincipleScorer(Func<IReadOnlyList<int[]>, double[]> Score, ScoreNormalizer Normalizer)
{
    /// <summary>A PM of the synthetic world's own model.</summary>
    public static PrincipleScorer Of(PreferenceModel pm, ScoreNormalizer normalizer) =>
        new(sequences => PreferenceModelTraining.Score(pm, sequences), normalizer);

    /// <summary>A principle's LoRA PM on a Hugging Face base (possibly the policy's own base: each call activates its adapter).</summary>
    public static PrincipleScorer Of(HfPreferenceModel pms, string principle, ScoreNormalizer normalizer) =>
        new(sequences => pms.Score(principle, sequences), normalizer);
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
