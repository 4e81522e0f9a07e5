using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;

namespace Morlaif.Learning.World;

/// <summary>
/// The synthetic world's side of the evaluation (<see cref="EvaluationStage"/>): its held-out prompts (the last share
/// asked with unseen templates), its judge (the true preference with the judge's bias and noise) and its ground truth.
/// </summary>
public static class WorldEvaluation
{
    /// <summary>
    /// The arm <paramref name="morlaif"/> against <paramref name="baseline"/> (and each against SFT) on the run's held-out
    /// prompts, and every policy's answers' true preference (<paramref name="arms"/>' and the SFT policy's).
    /// </summary>
    public static (EvaluationResult Result, PolicyTruths Truths) Evaluate(WorldRun ctx, PolicyModel sft, IReadOnlyDictionary<string, PolicyModel> arms,
        string morlaif, string baseline)
    {
        var set = Prompts(ctx);
        var policies = new Dictionary<string, PolicyModel>(arms) { [EvaluationStage.Sft] = sft };
        var named = new Dictionary<string, string> { [ScalarizationStage.MorlaifArm] = morlaif, [ScalarizationStage.BaselineArm] = baseline };
        // Each policy answers once, all before the comparisons: each samples with its own generator of the same seed, so
        // they answer side by side where torch's threads leave cores idle (the in-process world run gives a stage one).
        var names = policies.Keys.ToList();
        var responses = new IReadOnlyList<string>[names.Count];
        SideBySide.For(names.Count, i => responses[i] = Responses(ctx, set.Items, policies[names[i]]));
        var answers = names.Select((n, i) => (n, r: responses[i])).ToDictionary(x => x.n, x => x.r);
        IReadOnlyList<string> Answers(string policy) => answers[policy];
        var judge = new Judge(ctx.Judge, set.Items, new Random(ctx.Seed("evaluation-judge")));
        // The world's judge and truth answer at once: nothing here waits.
        var result = EvaluationStage.EvaluateAsync(set, p => p.Text, role => Answers(named.GetValueOrDefault(role, role)), judge, new Truth(set.Items), ctx.Config,
            CancellationToken.None).GetAwaiter().GetResult();
        var truth = policies.Keys.ToDictionary(p => p, p => (IReadOnlyList<double>)[.. Answers(p).Select((r, i) => GroundTruth.Score(Principle.Overall, set.Items[i], r))]);
        return (result, new PolicyTruths(set.Samples, set.Unseen, truth));
    }

    /// <summary>
    /// One policy's answers' true preference, item by item, on the run's evaluation prompts and random numbers (the same
    /// as <see cref="Evaluate"/> gives it): a point of an arm's optimisation path.
    /// </summary>
    public static IReadOnlyList<double> TruePreferenceOf(WorldRun ctx, PolicyModel policy)
    {
        var set = Prompts(ctx);
        return [.. Responses(ctx, set.Items, policy).Select((r, i) => GroundTruth.Score(Principle.Overall, set.Items[i], r))];
    }

    /// <summary>
    /// The held-out evaluation prompts of a run, none of which any training stage asks: evaluation.prompts, the first
    /// drawn from the training templates' held-out combinations (<see cref="World.Prompts.HeldOut"/>), the last
    /// evaluation.unseenTemplates share of them asked with templates no training stage saw.
    /// </summary>
    public static EvaluationSet<SyntheticPrompt> Prompts(WorldRun ctx)
    {
        var e = ctx.Config.Evaluation;
        var unseen = (int)Math.Round(e.Prompts * e.UnseenTemplates);
        var rng = new Random(ctx.Seed("evaluation"));
        var prompts = World.Prompts.Sample(rng, e.Prompts - unseen, PromptSet.HeldOut);
        prompts.AddRange(World.Prompts.Sample(rng, unseen, PromptSet.UnseenTemplates));
        return new EvaluationSet<SyntheticPrompt>(prompts, unseen, ctx.Config.EvaluationSamples);
    }

    /// <summary>A policy's answers to <paramref name="prompts"/> (<see cref="EvaluationStage.Answer"/>), as text.</summary>
    public static List<string> Responses(WorldRun ctx, IReadOnlyList<SyntheticPrompt> prompts, PolicyModel policy) =>
        EvaluationStage.Answer(policy, prompts.Select(p => ctx.Tokenizer.EncodePrompt(p.Text)).ToList(), ctx.Config, ctx.Device).Select(ctx.Tokenizer.Decode).ToList();

    /// <summary>The world's judge asked its overall question in both orders: it never abstains.</summary>
    private sealed class Judge(SyntheticJudge judge, IReadOnlyList<SyntheticPrompt> items, Random rng) : IEvaluationJudge
    {
        public Task<(IReadOnlyList<int> Outcomes, int? Abstentions)> CompareAsync(IReadOnlyList<string> morlaif, IReadOnlyList<string> baseline, CancellationToken cancel)
        {
            IReadOnlyList<int> outcomes = [.. items.Select((p, i) =>
            {
                var label = judge.Label(GroundTruth.Score(Principle.Overall, p, morlaif[i]), GroundTruth.Score(Principle.Overall, p, baseline[i]), rng);
                return label.PreferA > 0.5 ? 1 : label.PreferA < 0.5 ? -1 : 0;
            })];
            return Task.FromResult((outcomes, (int?)null));
        }
    }

    private sealed class Truth(IReadOnlyList<SyntheticPrompt> items) : IGroundTruth
    {
        public double Score(string principle, int item, string response) => GroundTruth.Score(principle, items[item], response);
    }
}
