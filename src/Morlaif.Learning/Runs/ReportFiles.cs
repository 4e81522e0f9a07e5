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
        var baseline = r.Baseline == World.Constitution.Question
            ? "one PM on the judge's labels for one of 16 general principles drawn per pair, the paper's baseline"
            : "one PM on the judge's overall question, the true preference plus noise: an oracle-aligned upper bound, not the paper's baseline";
        sb.AppendLine($"Seed {r.Seed}, device {r.Device}, scalarization `{r.Scalarization}`, baseline `{r.Baseline}` ({baseline}), "
            + $"{r.Evaluation.Prompts} held-out prompts ({r.Evaluation.UnseenPrompts} with unseen templates) x {r.Evaluation.SamplesPerPrompt} samples, {r.Judge.TrainPairs} training pairs, {r.Judge.TestPairs} held-out pairs.").AppendLine();

        sb.AppendLine("## MORLAIF policy vs single-objective baseline").AppendLine();
        sb.AppendLine("| comparison | win / tie / loss |").AppendLine("|---|---|");
        sb.AppendLine($"| by true preference (the \"human raters\") | {Wtl(r.Evaluation.VsBaseline)} |");
        if (r.Evaluation.UnseenVsBaseline is { Total: > 0 } unseen) sb.AppendLine($"| by true preference, unseen templates only | {Wtl(unseen)} |");
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
        sb.AppendLine($"Weights fitted on {r.WeightsFittedOn} pairs labelled by the simulated raters; accuracy on {r.AccuracyMeasuredOn} held-out pairs decided by the noise-free true preference.").AppendLine();
        sb.AppendLine("| objective | accuracy |").AppendLine("|---|---|");
        foreach (var (k, v) in r.ObjectiveAccuracy) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine();
        sb.AppendLine($"## Ablation (linear objective, principles removed in {Stages.ScalarizationStage.AblationOrders} random orders)").AppendLine();
        sb.AppendLine("| principles kept | mean accuracy | lowest | highest |").AppendLine("|---|---|---|---|");
        foreach (var a in r.Ablation) sb.AppendLine($"| {a.Principles} | {F(a.Accuracy)} | {F(a.Lowest)} | {F(a.Highest)} |");
        sb.AppendLine();

        AppendPpo(sb, r, F);

        sb.AppendLine("## Sample responses").AppendLine();
        foreach (var s in r.Evaluation.Samples)
            sb.AppendLine($"- **{s.Prompt}**  ").AppendLine($"  MORLAIF: {s.Morlaif}  ").AppendLine($"  baseline: {s.Baseline}  ").AppendLine($"  SFT: {s.Sft}");
        sb.AppendLine();

        sb.AppendLine("## World").AppendLine();
        sb.AppendLine($"- vocabulary {r.World.Vocabulary} words; policy {r.World.PolicyParameters:N0} parameters");
        sb.AppendLine($"- judge: {r.World.JudgeModel}; sharpness {F(r.World.JudgeSharpness)}, position bias {F(r.World.JudgePositionBias)}, noise sd {F(r.World.JudgeNoiseSd)}");
        sb.AppendLine($"- true preference: {r.World.TruePreference}");
        sb.AppendLine($"- human raters: {r.World.Raters}").AppendLine();

        sb.AppendLine("## Timings (seconds)").AppendLine();
        sb.AppendLine("| stage | seconds |").AppendLine("|---|---|");
        foreach (var (k, v) in r.Timings) sb.AppendLine($"| {k} | {v.ToString("F1", c)} |");
        return sb.ToString();
    }

    /// <summary>Each arm's first and last iteration, and the reward-hacking check (true preference is never used to choose settings).</summary>
    private static void AppendPpo(StringBuilder sb, RunReport r, Func<double, string> f)
    {
        sb.AppendLine("## PPO (first and last iteration of each arm)").AppendLine();
        sb.AppendLine("| arm | iteration | proxy reward | true preference | KL | KL coef | approx KL | clip fraction | entropy | explained variance | response tokens |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (arm, stats) in r.Ppo)
            foreach (var s in stats.Count > 1 ? [stats[0], stats[^1]] : stats)
                sb.AppendLine($"| {arm} | {s.Iteration} | {f(s.MeanScore)} | {(s.Truth?.TryGetValue(Ppo.RewardHackingCheck.TruthKey, out var t) == true ? f(t) : "-")} | {f(s.MeanKl)} | {f(s.KlCoef)} | "
                    + $"{f(s.ApproxKl)} | {f(s.ClipFraction)} | {f(s.Entropy)} | {f(s.ExplainedVariance)} | {s.MeanResponseTokens.ToString("F1", CultureInfo.InvariantCulture)} |");
        sb.AppendLine();
        foreach (var (arm, stats) in r.Ppo)
            if (Ppo.RewardHackingCheck.Of(stats) is { } h)
                sb.AppendLine($"- {arm}: proxy reward {(h.ProxyChange >= 0 ? "+" : "")}{f(h.ProxyChange)}, true preference {(h.TrueChange >= 0 ? "+" : "")}{f(h.TrueChange)} "
                    + $"(± {f(h.TrueChangeStandardError)}) from the first third of the iterations to the last: {(h.Flagged ? "**reward hacking: the proxy rose while the truth fell**" : "no sign of reward hacking")}");
        sb.AppendLine();
    }
}
