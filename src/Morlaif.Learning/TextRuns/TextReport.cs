using System.Globalization;
using System.Text;
using System.Text.Json;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;

namespace Morlaif.Learning.TextRuns;

/// <summary>A share with its 95% Wilson score interval (sound at the small counts a text run's evaluation has).</summary>
public sealed record Share(double Value, double Low, double High)
{
    public static Share Wilson(int count, int total)
    {
        if (total == 0) return new Share(double.NaN, 0, 1);
        const double z = 1.959963984540054;
        var p = (double)count / total;
        var denominator = 1 + z * z / total;
        var center = (p + z * z / (2.0 * total)) / denominator;
        var half = z * Math.Sqrt(p * (1 - p) / total + z * z / (4.0 * total * total)) / denominator;
        return new Share(p, Math.Max(0, center - half), Math.Min(1, center + half));
    }
}

/// <summary>
/// The judge's verdicts on the MORLAIF policy against the baseline policy: each evaluation prompt answered by both, the
/// judge asked in both orders; a win or loss when both orders agree, a tie when they disagree or the judge abstained.
/// </summary>
public sealed record TextComparison(WinTieLoss Counts, Share Win, Share Tie, Share Loss, int Abstentions)
{
    public static TextComparison Of(IReadOnlyList<int> outcomes, int abstentions)
    {
        var counts = WinTieLoss.Count(outcomes);
        return new TextComparison(counts, Share.Wilson(counts.Wins, counts.Total), Share.Wilson(counts.Ties, counts.Total), Share.Wilson(counts.Losses, counts.Total), abstentions);
    }
}

public sealed record TextSample(string Prompt, string Morlaif, string Baseline, int Verdict);

/// <summary>A text run's report.json: what was trained on what, how well each part did, and the judged comparison.</summary>
public sealed record TextRunReport
{
    public required string RunId { get; init; }
    public string Task { get; init; } = RunConfig.TextTask;
    public required RunConfig Config { get; init; }
    public required string Model { get; init; }
    public required long Parameters { get; init; }
    public required int TrainPairs { get; init; }
    public required int TestPairs { get; init; }
    public required int IdenticalPairs { get; init; }
    public required IReadOnlyList<double>? SftLosses { get; init; }
    /// <summary>Per question: the share of pairs whose two orders disagreed, and the judge's abstentions.</summary>
    public required IReadOnlyDictionary<string, double> OrdersDisagreed { get; init; }
    public required IReadOnlyDictionary<string, int> Abstentions { get; init; }
    public required IReadOnlyDictionary<string, TextPmStats> PreferenceModels { get; init; }
    public required int HumanPairs { get; init; }
    /// <summary>The principle weights and every objective's accuracy on the held-out half of the human pairs.</summary>
    public required ObjectiveFit Objective { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> Ppo { get; init; }
    public required int EvaluationPrompts { get; init; }
    public required TextComparison JudgeVsBaseline { get; init; }
    public required IReadOnlyList<TextSample> Samples { get; init; }
    public required IReadOnlyDictionary<string, double> TimingsSeconds { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, RunConfig.Json);

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        string P(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("F1", c) + "%";
        string S(Share s) => $"{P(s.Value)} [{P(s.Low)}, {P(s.High)}]";
        string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim();
        var b = new StringBuilder();
        b.AppendLine($"# MORLAIF text run {RunId}").AppendLine();
        b.AppendLine(string.Create(c, $"Model `{Model}` ({Parameters:N0} parameters), principles {string.Join(", ", Config.Principles)}, baseline `{Config.Baseline}`, scalarization `{Config.Scalarization}`, seed {Config.Seed}."));
        b.AppendLine(string.Create(c, $"{TrainPairs} training and {TestPairs} held-out response pairs ({IdenticalPairs} with identical responses), {HumanPairs} human pairs, {EvaluationPrompts} evaluation prompts."));
        if (SftLosses is { Count: > 0 } sft) b.AppendLine($"SFT loss per epoch: {string.Join(", ", sft.Select(l => l.ToString("F3", c)))}.");
        b.AppendLine().AppendLine("## MORLAIF against the baseline, by the judge (95% Wilson intervals)").AppendLine();
        b.AppendLine("| win | tie | loss | judge abstentions |").AppendLine("|---|---|---|---|");
        b.AppendLine($"| {S(JudgeVsBaseline.Win)} | {S(JudgeVsBaseline.Tie)} | {S(JudgeVsBaseline.Loss)} | {JudgeVsBaseline.Abstentions} |").AppendLine();
        b.AppendLine("## Preference models").AppendLine();
        b.AppendLine("| question | loss before | loss after | held-out accuracy | orders disagreed | abstentions |").AppendLine("|---|---|---|---|---|---|");
        foreach (var (q, pm) in PreferenceModels)
            b.AppendLine(string.Create(c, $"| {q} | {pm.InitialLoss:F4} | {pm.FinalLoss:F4} | {P(pm.HeldOutAccuracy)} | {P(OrdersDisagreed.GetValueOrDefault(q))} | {Abstentions.GetValueOrDefault(q)} |"));
        b.AppendLine().AppendLine("## Principle weights and objective accuracy on held-out human pairs").AppendLine();
        b.AppendLine(string.Join(", ", Objective.Principles.Select((p, i) => string.Create(c, $"{p} {Objective.Weights[i]:F3}")))).AppendLine();
        b.AppendLine("| objective | accuracy |").AppendLine("|---|---|");
        foreach (var (name, accuracy) in Objective.Accuracy) b.AppendLine($"| {name} | {P(accuracy)} |");
        b.AppendLine().AppendLine("## PPO").AppendLine();
        b.AppendLine("| arm | iterations | reward first → last | KL last | response tokens last |").AppendLine("|---|---|---|---|---|");
        foreach (var (arm, stats) in Ppo)
            if (stats.Count > 0)
                b.AppendLine(string.Create(c, $"| {arm} | {stats.Count} | {stats[0].MeanScore:F3} → {stats[^1].MeanScore:F3} | {stats[^1].MeanKl:F4} | {stats[^1].MeanResponseTokens:F1} |"));
        b.AppendLine().AppendLine("## Samples").AppendLine();
        b.AppendLine("| prompt | MORLAIF | baseline | judge |").AppendLine("|---|---|---|---|");
        foreach (var s in Samples)
            b.AppendLine($"| {Cell(s.Prompt)} | {Cell(s.Morlaif)} | {Cell(s.Baseline)} | {(s.Verdict > 0 ? "MORLAIF" : s.Verdict < 0 ? "baseline" : "tie")} |");
        b.AppendLine().AppendLine("## Timings (s)").AppendLine();
        b.AppendLine(string.Join(", ", TimingsSeconds.Select(kv => string.Create(c, $"{kv.Key} {kv.Value:F1}"))));
        return b.ToString();
    }
}
