using Morlaif.Feedback;
using Morlaif.Feedback.Judging;
using Morlaif.Learning;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;

namespace Morlaif.Workers.Labeller;

/// <summary>
/// The pipeline's labels from a real judge (judge.kind = "openai"): the same chat judge and labeller as
/// `morlaif label`, asked about the pairs' text. An abstention becomes a tie and is counted.
/// </summary>
public static class ChatJudgeLabelling
{
    public static async Task<LabelSet> LabelAsync(RunContext ctx, PairSet pairs, string question, IJudgeCache cache, CancellationToken cancel)
    {
        var c = ctx.Config.Judge;
        var apiKey = c.ApiKeyEnv is { } variable
            ? Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? key : throw new InvalidOperationException($"judge.apiKeyEnv: environment variable '{variable}' is not set on this worker")
            : "unused";
        var judge = new ChatJudge(new ChatJudgeOptions { Endpoint = new Uri(c.Endpoint!), Model = c.Model!, ApiKey = apiKey });
        var phrase = question == Principle.Overall
            ? "the better response overall"
            : Principles.Paper.FirstOrDefault(p => p.Name == question)?.Phrase ?? GroundTruth.Find(question)?.Phrase ?? question;
        JudgeQuestion Ask(ResponsePair p) => new($"\n\nHuman: {p.Prompt.Text}\n\nAssistant:", p.TextA, p.TextB, phrase);
        var all = pairs.Train.Concat(pairs.Test).Select(Ask).ToList();
        var (labels, _) = await new Feedback.Labeller(judge, cache).JudgeAsync(all, c.Concurrency, cancel);
        var converted = labels.Select(l => l is null ? new PreferenceLabel(0.5, 0, false) : new PreferenceLabel(l.PreferA, l.Margin, l.OrdersDisagreed)).ToList();
        return new LabelSet(question, converted[..pairs.Train.Count], converted[pairs.Train.Count..], labels.Count(l => l is null));
    }
}
