using System.Globalization;
using System.Text;
using System.Text.Json;
using Morlaif.Learning.Evaluation;

namespace Morlaif.Learning.Runs;

/// <summary>A run's report.json and the human-readable report.md (the evaluator stores both as artifacts).</summary>
public static class ReportFiles
{
    public static string ToJson(RunReport report) => JsonSerializer.Serialize(report, RunConfig.Json);

    public static string ToMarkdown(RunReport r)
    {
        var c = CultureInfo.InvariantCulture;
        string P(double x) => (100 * x).ToString("F1", c) + "%";
        string F(double x) => x.ToString("F3", c);
        string Wtl(WinTieLoss w) => $"{P(w.Win)} / {P(w.Tie)} / {P(w.Loss)}";
        var sb = new StringBuilder();
        sb.AppendLine($"# MORLAIF run {r.RunId}").AppendLine();
        sb.AppendLine($"Seed {r.Seed}, device {r.Device}, scalarization `{r.Scalarization}`, baseline `{r.Baseline}` (one PM on the judge's overall labels), "
            + $"{r.Evaluation.Prompts} held-out prompts, {r.Judge.TrainPairs} training pairs, {r.Judge.TestPairs} held-out pairs.").AppendLine();

        sb.AppendLine("## MORLAIF policy vs single-objective baseline").AppendLine();
        sb.AppendLine("| comparison | win / tie / loss |").AppendLine("|---|---|");
        sb.AppendLine($"| by true preference (the \"human raters\") | {Wtl(r.Evaluation.VsBaseline)} |");
        sb.AppendLine($"| by the judge, both orders | {Wtl(r.Evaluation.JudgeVsBaseline)} |");
        sb.AppendLine($"| MORLAIF vs SFT (true preference) | {Wtl(r.Evaluation.MorlaifVsSft)} |");
        sb.AppendLine($"| baseline vs SFT (true preference) | {Wtl(r.Evaluation.BaselineVsSft)} |");
        foreach (var (p, w) in r.Evaluation.PerPrinciple) sb.AppendLine($"| {p} (ground truth) | {Wtl(w)} |");
        sb.AppendLine();
        sb.AppendLine("| policy | mean true preference |").AppendLine("|---|---|");
        foreach (var (k, v) in r.Evaluation.MeanTrueScore) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine();

        sb.AppendLine("## Preference models").AppendLine();
        sb.AppendLine("| principle | held-out accuracy vs judge | vs ground truth | weight | orders disagreed |").AppendLine("|---|---|---|---|---|");
        foreach (var (p, s) in r.PreferenceModels)
            sb.AppendLine($"| {p} | {F(s.HeldOutAccuracy)} | {F(s.GroundTruthAccuracy)} | {(r.Weights.TryGetValue(p, out var w) ? F(w) : "-")} | {P(r.Judge.OrdersDisagreed.GetValueOrDefault(p))} |");
        sb.AppendLine();

        sb.AppendLine("## Accuracy of each combined objective against the true preference").AppendLine();
        sb.AppendLine("| objective | accuracy |").AppendLine("|---|---|");
        foreach (var (k, v) in r.ObjectiveAccuracy) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine();
        sb.AppendLine("## Ablation (linear objective, weakest principle removed each step)").AppendLine();
        sb.AppendLine("| principles | accuracy |").AppendLine("|---|---|");
        foreach (var a in r.Ablation) sb.AppendLine($"| {a.Principles.Count}: {string.Join(", ", a.Principles)} | {F(a.Accuracy)} |");
        sb.AppendLine();

        sb.AppendLine("## Sample responses").AppendLine();
        foreach (var s in r.Evaluation.Samples)
            sb.AppendLine($"- **{s.Prompt}**  ").AppendLine($"  MORLAIF: {s.Morlaif}  ").AppendLine($"  baseline: {s.Baseline}  ").AppendLine($"  SFT: {s.Sft}");
        sb.AppendLine();

        sb.AppendLine("## World").AppendLine();
        sb.AppendLine($"- vocabulary {r.World.Vocabulary} words; policy {r.World.PolicyParameters:N0} parameters");
        sb.AppendLine($"- judge: {r.World.JudgeModel}; sharpness {F(r.World.JudgeSharpness)}, position bias {F(r.World.JudgePositionBias)}, noise sd {F(r.World.JudgeNoiseSd)}");
        sb.AppendLine($"- true preference: {r.World.TruePreference}").AppendLine();

        sb.AppendLine("## Timings (seconds)").AppendLine();
        sb.AppendLine("| stage | seconds |").AppendLine("|---|---|");
        foreach (var (k, v) in r.Timings) sb.AppendLine($"| {k} | {v.ToString("F1", c)} |");
        return sb.ToString();
    }
}
