using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// A text run's PMs as rewards, and the principle weights fitted on the human pairs, as the paper fits them: every
/// PM scores both sides of each human pair (the sides in a seeded random order), the weights are a logistic regression
/// on the first half (mirrored), and every scalarization's accuracy and the single PM's are measured on the second.
/// </summary>
public static class TextScalarization
{
    /// <param name="pms">every question's PM loaded on one base, with its normaliser</param>
    public static ObjectiveFit Fit(TextRun run, HfPreferenceModel pms, IReadOnlyDictionary<string, ScoreNormalizer> normalizers, IReadOnlyList<HumanPair> human)
    {
        var principles = run.Config.Principles;
        var maxLength = pms.Lora.Config.MaxPositions;
        var rng = new Random(run.Seed("human-sides"));
        var decided = human.Select(h =>
        {
            int[] chosen = Fit(run.Sequence(h.Prompt, h.Chosen), maxLength), rejected = Fit(run.Sequence(h.Prompt, h.Rejected), maxLength);
            return rng.Next(2) == 0 ? (chosen, rejected, true) : (rejected, chosen, false);
        }).ToList();
        PrincipleScorer Pm(string question) => new(question, pms.Principle(question), normalizers[question]);
        return ScalarizationStage.Fit(principles, ScalarizationStage.PrincipleScores(principles, Pm), ScalarizationStage.Reward(ScalarizationStage.BaselineArm, run.Config, null, Pm),
            decided, run.Seed("ablation"));
    }

    /// <summary>The reward of an arm (<see cref="ScalarizationStage.Reward(string, Runs.RunConfig, ObjectiveFit?, Func{string, PrincipleScorer})"/>) from a text run's PMs.</summary>
    public static PreferenceModelReward Reward(string arm, Runs.RunConfig config, ObjectiveFit? fit, HfPreferenceModel pms, IReadOnlyDictionary<string, ScoreNormalizer> normalizers) =>
        ScalarizationStage.Reward(arm, config, fit, q => new PrincipleScorer(q, pms.Principle(q), normalizers[q]));

    /// <summary>A human pair longer than the model's context keeps its end: the response and as much of the conversation as fits.</summary>
    private static int[] Fit(int[] sequence, int maxLength) => maxLength > 0 && sequence.Length > maxLength ? sequence[^maxLength..] : sequence;
}
