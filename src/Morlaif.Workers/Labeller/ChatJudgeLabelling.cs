using Morlaif.Feedback;
using Morlaif.Feedback.Judging;
using Morlaif.Learning;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using Morlaif.Storage;

namespace Morlaif.Workers.Labeller;

/// <summary>
/// The pipeline's labels from a real judge (judge.kind = "openai"): the same chat judge and labeller as
/// `morlaif label`, asked about the pairs' text. An abstention becomes a tie and is counted.
/// </summary>
public static class ChatJudgeLabelling
{
    /// <summary>What a text run's evaluation asks: the judge's overall preference between the two policies' answers.</summary>
    public const string EvaluationPhrase = "the better response overall: more helpful, honest and harmless";

    /// <summary>What the "overall" question asks (the baseline with "baseline": "overall").</summary>
    private const string OverallPhrase = "the better response overall";

    /// <summary>
    /// One question's labels of a run's pairs, whatever the model family: each pair asked as its conversation, the
    /// constitution baseline's principle drawn per pair as the synthetic judge draws it (World/Constitution), so both
    /// judges ask each pair the same principle.
    /// </summary>
    public static Task<LabelSet> LabelAsync(RunConfig config, IReadOnlyList<ISampledPair> train, IReadOnlyList<ISampledPair> test, string question,
        IJudgeCache cache, CancellationToken cancel, Action<int, int>? answered = null)
    {
        var phrase = Phrase(question, new Random(Seeds.Derive(config.Seed, "constitution-draw")), GroundTruth.Find(question)?.Phrase);
        JudgeQuestion Ask(ISampledPair p) => new(p.Conversation, p.TextA, p.TextB, phrase());
        return LabelAsync(config.Judge, question, [.. train.Select(Ask)], [.. test.Select(Ask)], cache, answered, cancel);
    }

    /// <summary>As above, for a stage record of a run: its progress (pairs judged so far) recorded as the answers come in.</summary>
    public static async Task<LabelSet> LabelAsync(StageCheckpoints progress, RunManifest m, RunConfig config, IReadOnlyList<ISampledPair> train,
        IReadOnlyList<ISampledPair> test, string question, IJudgeCache cache, CancellationToken cancel)
    {
        StageProgress? now = null;
        return await progress.WithProgressAsync(m.RunId, StageKeys.Label(question), () => now,
            () => LabelAsync(config, train, test, question, cache, cancel, (done, total) => now = new StageProgress(done, total, "pairs")), cancel);
    }

    /// <summary>
    /// The phrase of each successive pair's question: a principle's own, the overall question's, or for the "constitution"
    /// baseline one of the general principles drawn per pair with <paramref name="draws"/> (the paper's Constitutional-AI baseline).
    /// </summary>
    private static Func<string> Phrase(string question, Random draws, string? fallback) => question switch
    {
        Constitution.Question => () => Principles.Constitution[draws.Next(Principles.Constitution.Count)].Phrase,
        Principle.Overall => () => OverallPhrase,
        _ => (Principles.Paper.FirstOrDefault(p => p.Name == question)?.Phrase ?? fallback) is { } known
            ? () => known
            : throw new ArgumentException($"unknown principle '{question}'", nameof(question)),
    };

    /// <summary>What the judge is asked about a principle of the run (the paper's phrase, or the world's), as it labels that principle's pairs.</summary>
    public static string PrinciplePhrase(string principle) => Phrase(principle, new Random(0), GroundTruth.Find(principle)?.Phrase)();

    public static ChatJudge Judge(RunConfig.JudgeConfig c)
    {
        var apiKey = c.ApiKeyEnv is { } variable
            ? Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? key : throw new InvalidOperationException($"judge.apiKeyEnv: environment variable '{variable}' is not set on this worker")
            : "unused";
        return new ChatJudge(new ChatJudgeOptions { Endpoint = new Uri(c.Endpoint!), Model = c.Model!, ApiKey = apiKey });
    }

    private static async Task<LabelSet> LabelAsync(RunConfig.JudgeConfig c, string question, IReadOnlyList<JudgeQuestion> train, IReadOnlyList<JudgeQuestion> test,
        IJudgeCache cache, Action<int, int>? answered, CancellationToken cancel)
    {
        var (labels, _) = await new Feedback.JudgeLabeller(Judge(c), cache, answered).JudgeAsync([.. train, .. test], c.Concurrency, cancel);
        var converted = labels.Select(l => l is null ? new PreferenceLabel(0.5, 0, false) : new PreferenceLabel(l.PreferA, l.Margin, l.OrdersDisagreed)).ToList();
        return new LabelSet(question, converted[..train.Count], converted[train.Count..], labels.Count(l => l is null));
    }
}

/// <summary>
/// The chat judge as the evaluation's (<see cref="IEvaluationJudge"/>): for each prompt, the MORLAIF policy's answer
/// against the baseline's with <see cref="ChatJudgeLabelling.EvaluationPhrase"/>, asked in both orders; a verdict needs
/// both orders to agree, and a disagreement or an abstention is a tie.
/// </summary>
public sealed class ChatEvaluationJudge(RunConfig config, IJudgeCache cache, IReadOnlyList<string> prompts) : IEvaluationJudge
{
    public async Task<(IReadOnlyList<int> Outcomes, int? Abstentions)> CompareAsync(IReadOnlyList<string> morlaif, IReadOnlyList<string> baseline, CancellationToken cancel)
    {
        var questions = prompts.Select((p, i) => new JudgeQuestion(p, morlaif[i], baseline[i], ChatJudgeLabelling.EvaluationPhrase)).ToList();
        var (labels, _) = await new Feedback.JudgeLabeller(ChatJudgeLabelling.Judge(config.Judge), cache).JudgeAsync(questions, config.Judge.Concurrency, cancel);
        IReadOnlyList<int> outcomes = [.. labels.Select(l => l is null || l.OrdersDisagreed || l.PreferA == 0.5 ? 0 : l.PreferA > 0.5 ? 1 : -1)];
        return (outcomes, labels.Count(l => l is null));
    }
}

/// <summary>
/// The chat judge as the monitor's (<see cref="Learning.Ppo.IMonitorJudge"/>): each prompt's policy answer against the
/// SFT policy's, asked with the principle's own phrase in both orders, as the principle's pairs were labelled.
/// Answers come from and go to the run's judge cache, so a resumed check pays for nothing twice.
/// </summary>
public sealed class ChatMonitorJudge(RunConfig config, IJudgeCache cache, IReadOnlyList<string> conversations) : Learning.Ppo.IMonitorJudge
{
    public async Task<IReadOnlyList<PreferenceLabel?>> JudgeAsync(string principle, int iteration, IReadOnlyList<string> policy, IReadOnlyList<string> sft, CancellationToken cancel)
    {
        var phrase = ChatJudgeLabelling.PrinciplePhrase(principle);
        var questions = conversations.Select((c, i) => new JudgeQuestion(c, policy[i], sft[i], phrase)).ToList();
        var (labels, _) = await new Feedback.JudgeLabeller(ChatJudgeLabelling.Judge(config.Judge), cache).JudgeAsync(questions, config.Judge.Concurrency, cancel);
        return [.. labels.Select(l => l is null ? (PreferenceLabel?)null : new PreferenceLabel(l.PreferA, l.Margin, l.OrdersDisagreed))];
    }
}
