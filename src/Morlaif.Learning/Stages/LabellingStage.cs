using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>The judge labels every pair for one question, asking in both orders.</summary>
public static class LabellingStage
{
    public static LabelSet Label(RunContext ctx, PairSet pairs, string question)
    {
        // One random stream per question: labels do not depend on which questions were asked before.
        var rng = new Random(ctx.Seed("judge", question));
        var judge = ctx.Judge;
        PreferenceLabel[] Ask(IReadOnlyList<ResponsePair> split) => split
            .Select(p => judge.Label(GroundTruth.Score(question, p.Prompt, p.TextA), GroundTruth.Score(question, p.Prompt, p.TextB), rng))
            .ToArray();
        return new LabelSet(question, Ask(pairs.Train), Ask(pairs.Test));
    }
}
