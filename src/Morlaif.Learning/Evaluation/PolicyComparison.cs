using Morlaif.Learning.World;

namespace Morlaif.Learning.Evaluation;

/// <summary>Pairwise evaluation of two policies' responses to the same held-out prompts (METHOD.md, stage 6).</summary>
public static class PolicyComparison
{
    /// <summary>By the hidden true preference, the stand-in for human raters.</summary>
    public static WinTieLoss ByTruePreference(IReadOnlyList<SyntheticPrompt> prompts, IReadOnlyList<string> x, IReadOnlyList<string> y, double tolerance) =>
        ByScore(Principle.Overall, prompts, x, y, tolerance);

    /// <summary>By one principle's ground-truth score.</summary>
    public static WinTieLoss ByScore(string principle, IReadOnlyList<SyntheticPrompt> prompts, IReadOnlyList<string> x, IReadOnlyList<string> y, double tolerance) =>
        WinTieLoss.Count(prompts.Select((p, i) =>
            WinTieLoss.Compare(GroundTruth.Score(principle, p, x[i]), GroundTruth.Score(principle, p, y[i]), tolerance)));

    /// <summary>
    /// By the judge's overall question, asked in both orders: a win or loss only when both orders agree,
    /// a tie when they disagree (so the judge's position bias cannot decide a comparison).
    /// </summary>
    public static WinTieLoss ByJudge(SyntheticJudge judge, IReadOnlyList<SyntheticPrompt> prompts, IReadOnlyList<string> x, IReadOnlyList<string> y, Random rng) =>
        WinTieLoss.Count(prompts.Select((p, i) =>
        {
            var label = judge.Label(GroundTruth.Score(Principle.Overall, p, x[i]), GroundTruth.Score(Principle.Overall, p, y[i]), rng);
            return label.PreferA > 0.5 ? 1 : label.PreferA < 0.5 ? -1 : 0;
        }));

    public static double MeanScore(string principle, IReadOnlyList<SyntheticPrompt> prompts, IReadOnlyList<string> responses) =>
        prompts.Select((p, i) => GroundTruth.Score(principle, p, responses[i])).Average();
}
