using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>
/// A run's held-out evaluation prompts, each answered <paramref name="Samples"/> times by every policy. The last
/// <paramref name="Unseen"/> prompts are asked with templates no training stage saw.
/// </summary>
public sealed record EvaluationSet(IReadOnlyList<SyntheticPrompt> Prompts, int Unseen, int Samples)
{
    /// <summary>What the policies answer: every prompt, repeated <see cref="Samples"/> times in a row (item i is prompt i / Samples).</summary>
    public IReadOnlyList<SyntheticPrompt> Items { get; } = [.. Prompts.SelectMany(p => Enumerable.Repeat(p, Samples))];

    public bool IsUnseen(int prompt) => prompt >= Prompts.Count - Unseen;

    /// <summary>The items of the prompts asked with unseen templates.</summary>
    public IEnumerable<int> UnseenItems => Enumerable.Range((Prompts.Count - Unseen) * Samples, Unseen * Samples);
}

/// <summary>MORLAIF policy against the baseline policy (and each against SFT) on held-out prompts.</summary>
public static class EvaluationStage
{
    public static EvaluationResult Evaluate(RunContext ctx, PolicyModel sft, PolicyModel morlaif, PolicyModel baseline)
    {
        var c = ctx.Config;
        var set = Prompts(ctx);
        var items = set.Items;
        List<string> Respond(PolicyModel policy) => Responses(ctx, items, policy);
        const string M = ScalarizationStage.MorlaifArm, B = ScalarizationStage.BaselineArm;
        var responses = new Dictionary<string, List<string>> { [M] = Respond(morlaif), [B] = Respond(baseline), ["sft"] = Respond(sft) };
        var tol = c.Evaluation.TieTolerance;
        List<T> Unseen<T>(IReadOnlyList<T> all) => [.. set.UnseenItems.Select(i => all[i])];
        return new EvaluationResult
        {
            Prompts = set.Prompts.Count,
            SamplesPerPrompt = set.Samples,
            UnseenPrompts = set.Unseen,
            VsBaseline = PolicyComparison.ByTruePreference(items, responses[M], responses[B], tol),
            UnseenVsBaseline = PolicyComparison.ByTruePreference(Unseen(items), Unseen(responses[M]), Unseen(responses[B]), tol),
            JudgeVsBaseline = PolicyComparison.ByJudge(ctx.Judge, items, responses[M], responses[B], new Random(ctx.Seed("evaluation-judge"))),
            MorlaifVsSft = PolicyComparison.ByTruePreference(items, responses[M], responses["sft"], tol),
            BaselineVsSft = PolicyComparison.ByTruePreference(items, responses[B], responses["sft"], tol),
            PerPrinciple = c.Principles.ToDictionary(p => p, p => PolicyComparison.ByScore(p, items, responses[M], responses[B], 1e-9)),
            MeanTrueScore = responses.ToDictionary(kv => kv.Key, kv => PolicyComparison.MeanScore(Principle.Overall, items, kv.Value)),
            MeanPrincipleScores = responses.ToDictionary(kv => kv.Key,
                kv => (IReadOnlyDictionary<string, double>)c.Principles.ToDictionary(p => p, p => PolicyComparison.MeanScore(p, items, kv.Value))),
            Samples = Enumerable.Range(0, Math.Min(6, set.Prompts.Count)).Select(i => i * set.Samples)
                .Select(i => new SampleResponse(items[i].Text, responses[M][i], responses[B][i], responses["sft"][i])).ToList(),
        };
    }

    /// <summary>
    /// The held-out evaluation prompts of a run: evaluation.prompts drawn from the training templates' distribution,
    /// the last evaluation.unseenTemplates share of them asked with templates no training stage saw.
    /// </summary>
    public static EvaluationSet Prompts(RunContext ctx)
    {
        var e = ctx.Config.Evaluation;
        var unseen = (int)Math.Round(e.Prompts * e.UnseenTemplates);
        var rng = new Random(ctx.Seed("evaluation"));
        var prompts = World.Prompts.Sample(rng, e.Prompts - unseen);
        prompts.AddRange(Enumerable.Range(0, unseen).Select(_ => World.Prompts.Sample(rng, unseen: true)));
        return new EvaluationSet(prompts, unseen, ctx.Config.EvaluationSamples);
    }

    /// <summary>
    /// A policy's responses to <paramref name="prompts"/>. Every policy samples with the same seed (common random numbers),
    /// so two policies that agree give the same response and their comparison carries less noise.
    /// </summary>
    public static List<string> Responses(RunContext ctx, IReadOnlyList<SyntheticPrompt> prompts, PolicyModel policy)
    {
        using var g = new Generator((ulong)ctx.Seed("evaluation-sampling"), ctx.Device);
        var ids = prompts.Select(p => ctx.Tokenizer.EncodePrompt(p.Text)).ToList();
        return Sampler.Generate(policy, ids, ctx.Config.Ppo.MaxNewTokens, g).Select(ctx.Tokenizer.Decode).ToList();
    }
}
