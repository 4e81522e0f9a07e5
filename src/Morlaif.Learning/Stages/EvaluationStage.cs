using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>MORLAIF policy against the baseline policy (and each against SFT) on held-out prompts.</summary>
public static class EvaluationStage
{
    public static EvaluationResult Evaluate(RunContext ctx, PolicyModel sft, PolicyModel morlaif, PolicyModel baseline)
    {
        var c = ctx.Config;
        var prompts = Prompts(ctx);
        List<string> Respond(PolicyModel policy) => Responses(ctx, prompts, policy);
        const string M = ScalarizationStage.MorlaifArm, B = ScalarizationStage.BaselineArm;
        var responses = new Dictionary<string, List<string>> { [M] = Respond(morlaif), [B] = Respond(baseline), ["sft"] = Respond(sft) };
        var tol = c.Evaluation.TieTolerance;
        return new EvaluationResult
        {
            Prompts = prompts.Count,
            VsBaseline = PolicyComparison.ByTruePreference(prompts, responses[M], responses[B], tol),
            JudgeVsBaseline = PolicyComparison.ByJudge(ctx.Judge, prompts, responses[M], responses[B], new Random(ctx.Seed("evaluation-judge"))),
            MorlaifVsSft = PolicyComparison.ByTruePreference(prompts, responses[M], responses["sft"], tol),
            BaselineVsSft = PolicyComparison.ByTruePreference(prompts, responses[B], responses["sft"], tol),
            PerPrinciple = c.Principles.ToDictionary(p => p, p => PolicyComparison.ByScore(p, prompts, responses[M], responses[B], 1e-9)),
            MeanTrueScore = responses.ToDictionary(kv => kv.Key, kv => PolicyComparison.MeanScore(Principle.Overall, prompts, kv.Value)),
            MeanPrincipleScores = responses.ToDictionary(kv => kv.Key,
                kv => (IReadOnlyDictionary<string, double>)c.Principles.ToDictionary(p => p, p => PolicyComparison.MeanScore(p, prompts, kv.Value))),
            Samples = Enumerable.Range(0, Math.Min(6, prompts.Count))
                .Select(i => new SampleResponse(prompts[i].Text, responses[M][i], responses[B][i], responses["sft"][i])).ToList(),
        };
    }

    /// <summary>The held-out evaluation prompts of a run.</summary>
    public static List<SyntheticPrompt> Prompts(RunContext ctx) =>
        World.Prompts.Sample(new Random(ctx.Seed("evaluation")), ctx.Config.Evaluation.Prompts);

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
