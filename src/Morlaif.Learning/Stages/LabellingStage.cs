using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>The judge labels every pair for one question, asking in both orders.</summary>
public static class LabellingStage
{
    public static LabelSet Label(WorldRun ctx, PairSet<SyntheticPrompt> pairs, string question)
    {
        // One random stream per question: labels do not depend on which questions were asked before.
        var rng = new Random(ctx.Seed("judge", question));
        var judge = ctx.Judge;
        Func<int, SyntheticPrompt, string, double> score = (_, prompt, text) => GroundTruth.Score(question, prompt, text);
        var baseline = ctx.Config.Baseline;
        if (PmQuestions.DrawOf(question, baseline) is { } draw)
        {
            if (baseline == Constitution.Question)
            {
                // The paper's baseline: each pair (train, then test) judged on one general principle drawn for it; with matched
                // budgets, on as many distinct ones as MORLAIF has principles, one per draw.
                var drawn = Constitution.Draw(new Random(ctx.Seed("constitution-draw")), new Random(ctx.Seed("constitution-draw", "more")),
                    pairs.Train.Count + pairs.Test.Count, draw);
                score = (i, prompt, text) => Constitution.Score(drawn[i], prompt, ParsedResponse.Parse(prompt, text));
            }
            else
            {
                // The "overall" baseline asked again: the same question, the judge's noise drawn afresh (its own stream above).
                score = (_, prompt, text) => GroundTruth.Score(baseline, prompt, text);
            }
        }
        PreferenceLabel[] Ask(IReadOnlyList<ResponsePair<SyntheticPrompt>> split, int offset) => split
            .Select((p, i) => judge.Label(score(offset + i, p.Prompt, p.TextA), score(offset + i, p.Prompt, p.TextB), rng))
            .ToArray();
        return new LabelSet(question, Ask(pairs.Train, 0), Ask(pairs.Test, pairs.Train.Count));
    }
}
