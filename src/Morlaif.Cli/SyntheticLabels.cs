using Morlaif.Feedback;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning;
using Morlaif.Learning.World;

namespace Morlaif.Cli;

/// <summary>
/// `morlaif label --judge synthetic`: the synthetic world's judge (the one `morlaif run` uses), for pairs of
/// the synthetic world only: it needs the world's ground truth, so every prompt must be one of its prompts.
/// </summary>
public static class SyntheticLabels
{
    public static LabellingResult Label(string input, IReadOnlyList<PreferenceExample> pairs, IReadOnlyList<string> principles, int seed)
    {
        foreach (var name in principles)
            if (name != Principle.Overall && GroundTruth.Find(name) is null)
                throw new UsageException($"option '--principles': the synthetic world has no ground truth for '{name}' (it has: {string.Join(", ", GroundTruth.Principles.Select(p => p.Name))}, overall)");
        var judge = new SyntheticJudge();
        // One stream per principle: a principle's labels do not depend on which others were asked for.
        var rngs = principles.ToDictionary(p => p, p => new Random(Seeds.Derive(seed, "judge", p)));
        var rows = new List<LabelledRow>();
        var disagreed = principles.ToDictionary(p => p, _ => 0.0);
        foreach (var pair in pairs)
        {
            var text = pair.Prompt.Replace("\n\nHuman:", "", StringComparison.Ordinal).Replace("\n\nAssistant:", "", StringComparison.Ordinal).Trim();
            if (!Prompts.All.TryGetValue(text, out var prompt))
                throw new DatasetException(input, pair.Line, $"the prompt '{text}' is not one of the synthetic world's prompts; --judge synthetic labels synthetic-world pairs only");
            foreach (var name in principles)
            {
                var label = judge.Label(GroundTruth.Score(name, prompt, pair.Chosen), GroundTruth.Score(name, prompt, pair.Rejected), rngs[name]);
                if (label.OrdersDisagreed) disagreed[name]++;
                var keep = label.PreferA >= 0.5;
                rows.Add(new LabelledRow(pair.Prompt, keep ? pair.Chosen : pair.Rejected, keep ? pair.Rejected : pair.Chosen, name, label.Margin,
                    "synthetic", label.OrdersDisagreed, pair.Line));
            }
        }
        return new LabellingResult(rows, [], disagreed.ToDictionary(kv => kv.Key, kv => kv.Value / pairs.Count), 0);
    }
}
