using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>
/// A run's held-out evaluation prompts, each answered <paramref name="Samples"/> times by every policy. The last
/// <paramref name="Unseen"/> prompts are asked with templates no training stage saw (the synthetic world's).
/// </summary>
public sealed record EvaluationSet<TPrompt>(IReadOnlyList<TPrompt> Prompts, int Unseen, int Samples)
{
    /// <summary>What the policies answer: every prompt, repeated <see cref="Samples"/> times in a row (item i is prompt i / Samples).</summary>
    public IReadOnlyList<TPrompt> Items { get; } = [.. Prompts.SelectMany(p => Enumerable.Repeat(p, Samples))];

    /// <summary>The items of the prompts asked with unseen templates.</summary>
    public IEnumerable<int> UnseenItems => Enumerable.Range((Prompts.Count - Unseen) * Samples, Unseen * Samples);
}

/// <summary>
/// Every evaluated policy's answers scored by the true preference, item by item (<paramref name="Samples"/> answers per
/// prompt; the last <paramref name="Unseen"/> prompts asked with unseen templates): what an experiment compares its arms on.
/// </summary>
public sealed record PolicyTruths(int Samples, int Unseen, IReadOnlyDictionary<string, IReadOnlyList<double>> Truth)
{
    /// <summary>Where the run asked for it (evaluation.path): each arm's policy at the end of each earlier PPO chunk, scored the same way.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, IReadOnlyList<PathPoint>>? Path { get; init; }
}

/// <summary>
/// An arm's policy after <paramref name="Iteration"/> PPO iterations: its KL to the SFT policy (per response, on its
/// rollouts) and its answers' true preference prompt by prompt, each the mean of the prompt's samples.
/// </summary>
public sealed record PathPoint(int Iteration, double Kl, IReadOnlyList<double> Truth);

/// <summary>The evaluation's judge: the MORLAIF policy's answer against the baseline policy's, item by item, asked in both orders.</summary>
public interface IEvaluationJudge
{
    /// <returns>
    /// Per item +1 when both orders prefer the MORLAIF answer, -1 when both prefer the baseline's, else 0 (the orders
    /// disagreed, so the judge's position bias cannot decide); and how many items it abstained on, for a judge that can.
    /// </returns>
    Task<(IReadOnlyList<int> Outcomes, int? Abstentions)> CompareAsync(IReadOnlyList<string> morlaif, IReadOnlyList<string> baseline, CancellationToken cancel);
}

/// <summary>What only a run with a truth knows (the synthetic world): every principle's score of an item's answer, and the true preference.</summary>
public interface IGroundTruth
{
    /// <summary>The score of <paramref name="item"/>'s <paramref name="response"/> by <paramref name="principle"/>, or the true preference by <see cref="Principle.Overall"/>.</summary>
    double Score(string principle, int item, string response);
}

/// <summary>The MORLAIF policy against the baseline policy on held-out prompts, by the judge, and by the truth where there is one (then each also against SFT).</summary>
public static class EvaluationStage
{
    /// <summary>The policy both arms start from, answering beside them where a truth can score it.</summary>
    public const string Sft = "sft";

    /// <param name="answers">a policy's answers to every item, by arm (or <see cref="Sft"/>)</param>
    public static async Task<EvaluationResult> EvaluateAsync<TPrompt>(EvaluationSet<TPrompt> set, Func<TPrompt, string> text,
        Func<string, IReadOnlyList<string>> answers, IEvaluationJudge judge, IGroundTruth? truth, RunConfig config, CancellationToken cancel)
    {
        const string M = ScalarizationStage.MorlaifArm, B = ScalarizationStage.BaselineArm;
        var responses = new Dictionary<string, IReadOnlyList<string>> { [M] = answers(M), [B] = answers(B) };
        if (truth is not null) responses[Sft] = answers(Sft);
        var (outcomes, abstentions) = await judge.CompareAsync(responses[M], responses[B], cancel);
        var items = set.Items;
        var result = new EvaluationResult
        {
            Prompts = set.Prompts.Count,
            SamplesPerPrompt = set.Samples,
            UnseenPrompts = set.Unseen,
            JudgeVsBaseline = WinTieLoss.Count(outcomes),
            JudgeAbstentions = abstentions,
            // Where a truth scores the answers, its tables say more than one verdict per sample.
            Samples = Enumerable.Range(0, Math.Min(6, set.Prompts.Count)).Select(i => i * set.Samples)
                .Select(i => new SampleResponse(text(items[i]), responses[M][i], responses[B][i], responses.GetValueOrDefault(Sft)?[i], truth is null ? outcomes[i] : null))
                .ToList(),
        };
        return truth is null ? result : ByTruth(result, set, responses, truth, config);
    }

    private static EvaluationResult ByTruth<TPrompt>(EvaluationResult result, EvaluationSet<TPrompt> set, Dictionary<string, IReadOnlyList<string>> responses,
        IGroundTruth truth, RunConfig config)
    {
        const string M = ScalarizationStage.MorlaifArm, B = ScalarizationStage.BaselineArm, Overall = Principle.Overall;
        var all = Enumerable.Range(0, set.Items.Count).ToList();
        var tolerance = config.Evaluation.TieTolerance;
        WinTieLoss Compare(string principle, string x, string y, double tol, IEnumerable<int> items) => WinTieLoss.Count(items.Select(i =>
            WinTieLoss.Compare(truth.Score(principle, i, responses[x][i]), truth.Score(principle, i, responses[y][i]), tol)));
        double Mean(string principle, IReadOnlyList<string> answers) => all.Select(i => truth.Score(principle, i, answers[i])).Average();
        return result with
        {
            VsBaseline = Compare(Overall, M, B, tolerance, all),
            UnseenVsBaseline = Compare(Overall, M, B, tolerance, set.UnseenItems),
            MorlaifVsSft = Compare(Overall, M, Sft, tolerance, all),
            BaselineVsSft = Compare(Overall, B, Sft, tolerance, all),
            PerPrinciple = config.Principles.ToDictionary(p => p, p => Compare(p, M, B, 1e-9, all)),
            MeanTrueScore = responses.ToDictionary(kv => kv.Key, kv => Mean(Overall, kv.Value)),
            MeanPrincipleScores = responses.ToDictionary(kv => kv.Key,
                kv => (IReadOnlyDictionary<string, double>)config.Principles.ToDictionary(p => p, p => Mean(p, kv.Value))),
        };
    }

    /// <summary>
    /// A policy's answers (token ids) to <paramref name="prompts"/>. Every policy samples with the run's same seed
    /// (common random numbers), so two policies that agree give the same answer and their comparison carries less noise.
    /// </summary>
    public static List<int[]> Answer(IGenerativePolicy policy, IReadOnlyList<int[]> prompts, RunConfig config, Device device)
    {
        using var g = new Generator((ulong)Seeds.Derive(config.Seed, "evaluation-sampling"), device);
        return policy.Generate(prompts, config.Ppo.MaxNewTokens, g);
    }
}
