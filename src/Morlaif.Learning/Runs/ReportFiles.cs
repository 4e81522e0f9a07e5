using System.Globalization;
using System.Text;
using System.Text.Json;
using Morlaif.Learning.Evaluation;

namespace Morlaif.Learning.Runs;

/// <summary>A run's report.json, the human-readable report.md (the evaluator stores both), and its headline figures.</summary>
public static class ReportFiles
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The charts report.md links beside it, where the run has them (the evaluator draws them).</summary>
    public const string PpoChart = "ppo.png", PrincipleRewardChart = "principle-rewards.png", PreferenceModelChart = "preference-models.png", EvaluationChart = "evaluation.png",
        ObjectiveChart = "objectives.png", AblationChart = "ablation.png";

    public static string ToJson(RunReport report) => JsonSerializer.Serialize(report, RunConfig.Json);

    public static RunReport FromJson(byte[] json) =>
        JsonSerializer.Deserialize<RunReport>(json, RunConfig.Json) ?? throw new InvalidDataException("report.json is empty");

    private static string P(double x) => double.IsNaN(x) ? "n/a" : (100 * x).ToString("F1", C) + "%";
    private static string F(double x) => x.ToString("F3", C);
    private static string Wtl(WinTieLoss w) => $"{P(w.Win)} / {P(w.Tie)} / {P(w.Loss)}";

    /// <summary>A share with its 95% Wilson interval, for a judge-only comparison's small counts.</summary>
    private static string Share(WinTieLoss w, int count)
    {
        var (low, high) = w.Interval(count);
        return $"{P(w.Total == 0 ? double.NaN : (double)count / w.Total)} [{P(low)}, {P(high)}]";
    }

    /// <summary>The judge's comparison with intervals: win / tie / loss.</summary>
    private static string Judged(WinTieLoss w) => $"{Share(w, w.Wins)} / {Share(w, w.Ties)} / {Share(w, w.Losses)}";

    /// <summary>The headline figures, as (measure, value) rows: what `morlaif run` prints when a run completes.</summary>
    public static IEnumerable<(string Measure, string Value)> Summary(RunReport r)
    {
        if (r.Evaluation is { } e)
        {
            if (e.VsBaseline is { } truth) yield return ("MORLAIF vs baseline (true preference) win/tie/loss", Wtl(truth));
            yield return ($"MORLAIF vs baseline (judge, both orders, {e.Prompts * e.SamplesPerPrompt} answers) win/tie/loss", Judged(e.JudgeVsBaseline));
            foreach (var (k, v) in e.MeanTrueScore ?? new Dictionary<string, double>()) yield return ($"mean true preference: {k}", F(v));
        }
        foreach (var (k, v) in r.ObjectiveAccuracy) yield return ($"objective accuracy: {k}", F(v));
        foreach (var (k, v) in r.PreferenceModels) yield return ($"PM held-out accuracy: {k}", F(v.HeldOutAccuracy));
        yield return ("total seconds", r.Timings["total"].ToString("F1", C));
    }

    /// <summary>The line a worker logs about a finished run.</summary>
    public static string Headline(RunReport r) => r.Evaluation switch
    {
        null => $"no policies trained (arms: none); linear objective accuracy {F(r.ObjectiveAccuracy.GetValueOrDefault("linear", double.NaN))}",
        { VsBaseline: { } truth } => $"MORLAIF vs baseline by the true preference: win {P(truth.Win)} tie {P(truth.Tie)} loss {P(truth.Loss)}",
        { JudgeVsBaseline: var judge } => $"MORLAIF vs baseline by the judge: win {P(judge.Win)} tie {P(judge.Tie)} loss {P(judge.Loss)}",
    };

    /// <param name="charts">the chart files written beside report.md; each is linked in its section</param>
    public static string ToMarkdown(RunReport r, IReadOnlyCollection<string>? charts = null)
    {
        charts ??= [];
        var sb = new StringBuilder();
        sb.AppendLine($"# MORLAIF run {r.RunId}").AppendLine();
        var baseline = r.Baseline == World.Constitution.Question
            ? "one PM on the judge's labels for one of 16 general principles drawn per pair, the paper's baseline"
            : "one PM on the judge's overall question: with the world's judge, the true preference plus noise, an oracle-aligned upper bound, not the paper's baseline";
        var model = r.Model is { } m ? string.Create(C, $"model `{m.Name}` ({m.Parameters:N0} parameters), ") : "";
        var identical = r.Judge.IdenticalPairs is { } same ? $" ({same} with identical responses)" : "";
        sb.AppendLine($"Seed {r.Seed}, device {r.Device}, {model}scalarization `{r.Scalarization}`, baseline `{r.Baseline}` ({baseline}), "
            + (r.Evaluation is { } e ? $"{e.Prompts} held-out prompts ({e.UnseenPrompts} with unseen templates) x {e.SamplesPerPrompt} samples, " : "no policies trained, ")
            + $"{r.Judge.TrainPairs} training pairs, {r.Judge.TestPairs} held-out pairs{identical}.").AppendLine();
        if (r.Model?.SftLosses is { Count: > 0 } sft) sb.AppendLine($"SFT loss per epoch: {string.Join(", ", sft.Select(F))}.").AppendLine();

        if (r.Evaluation is not null) AppendComparison(sb, r.Evaluation);
        AppendChart(sb, charts, EvaluationChart, "Win / tie / loss with 95% intervals");
        AppendPreferenceModels(sb, r);
        AppendChart(sb, charts, PreferenceModelChart, "PM held-out accuracy");

        var truth = r.World is not null;
        sb.AppendLine($"## Accuracy of each combined objective against {(truth ? "the true preference" : "the human labels")}").AppendLine();
        sb.AppendLine(truth
            ? $"Weights fitted on {r.WeightsFittedOn} pairs labelled by the simulated raters; accuracy on {r.AccuracyMeasuredOn} held-out pairs decided by the noise-free true preference."
            : $"Weights fitted on {r.WeightsFittedOn} human pairs; accuracy on the {r.AccuracyMeasuredOn} held-out ones.").AppendLine();
        sb.AppendLine("| objective | accuracy |").AppendLine("|---|---|");
        foreach (var (k, v) in r.ObjectiveAccuracy) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine();
        AppendChart(sb, charts, ObjectiveChart, "Accuracy of each combined objective");
        sb.AppendLine($"## Ablation (linear objective, principles removed in {Stages.ScalarizationStage.AblationOrders} random orders)").AppendLine();
        sb.AppendLine("| principles kept | mean accuracy | lowest | highest |").AppendLine("|---|---|---|---|");
        foreach (var a in r.Ablation) sb.AppendLine($"| {a.Principles} | {F(a.Accuracy)} | {F(a.Lowest)} | {F(a.Highest)} |");
        sb.AppendLine();
        AppendChart(sb, charts, AblationChart, "Ablation: accuracy by principles kept");

        AppendPpo(sb, r);
        AppendChart(sb, charts, PpoChart, "PPO per iteration");
        AppendChart(sb, charts, PrincipleRewardChart, "each PM's reward per iteration");
        ArmMonitor.Append(sb, r);
        if (r.Evaluation is not null) AppendSamples(sb, r.Evaluation);

        if (r.World is { } w)
        {
            sb.AppendLine("## World").AppendLine();
            sb.AppendLine($"- vocabulary {w.Vocabulary} words; policy {w.PolicyParameters:N0} parameters");
            sb.AppendLine($"- judge: {w.JudgeModel}; sharpness {F(w.JudgeSharpness)}, position bias {F(w.JudgePositionBias)}, noise sd {F(w.JudgeNoiseSd)}");
            sb.AppendLine($"- true preference: {w.TruePreference}");
            sb.AppendLine($"- human raters: {w.Raters}").AppendLine();
        }

        sb.AppendLine("## Timings (seconds)").AppendLine();
        sb.AppendLine("| stage | seconds |").AppendLine("|---|---|");
        foreach (var (k, v) in r.Timings) sb.AppendLine($"| {k} | {v.ToString("F1", C)} |");
        return sb.ToString();
    }

    private static void AppendChart(StringBuilder sb, IReadOnlyCollection<string> charts, string file, string title)
    {
        if (charts.Contains(file)) sb.AppendLine($"![{title}]({file})").AppendLine();
    }

    /// <summary>MORLAIF against the baseline: by the truth where there is one, always by the judge (with intervals when the judge alone decides).</summary>
    private static void AppendComparison(StringBuilder sb, EvaluationResult e)
    {
        sb.AppendLine("## MORLAIF policy vs single-objective baseline").AppendLine();
        sb.AppendLine("| comparison | win / tie / loss |").AppendLine("|---|---|");
        if (e.VsBaseline is { } truth) sb.AppendLine($"| by true preference (the \"human raters\") | {Wtl(truth)} |");
        if (e.UnseenVsBaseline is { Total: > 0 } unseen) sb.AppendLine($"| by true preference, unseen templates only | {Wtl(unseen)} |");
        sb.AppendLine(e.VsBaseline is null
            ? $"| by the judge, both orders (95% Wilson intervals; {e.JudgeAbstentions ?? 0} abstentions, counted as ties) | {Judged(e.JudgeVsBaseline)} |"
            : $"| by the judge, both orders | {Wtl(e.JudgeVsBaseline)} |");
        if (e.MorlaifVsSft is { } ms) sb.AppendLine($"| MORLAIF vs SFT (true preference) | {Wtl(ms)} |");
        if (e.BaselineVsSft is { } bs) sb.AppendLine($"| baseline vs SFT (true preference) | {Wtl(bs)} |");
        foreach (var (p, w) in e.PerPrinciple ?? new Dictionary<string, WinTieLoss>()) sb.AppendLine($"| {p} (ground truth) | {Wtl(w)} |");
        sb.AppendLine();
        if (e.MeanTrueScore is not { } means) return;
        sb.AppendLine("| policy | mean true preference |").AppendLine("|---|---|");
        foreach (var (k, v) in means) sb.AppendLine($"| {k} | {F(v)} |");
        sb.AppendLine();
    }

    /// <summary>Each question's PM: accuracy against the judge (and the truth, where known), its losses, weight and the judge's statistics.</summary>
    private static void AppendPreferenceModels(StringBuilder sb, RunReport r)
    {
        var truth = r.PreferenceModels.Values.Any(s => s.GroundTruthAccuracy is not null);
        var losses = r.PreferenceModels.Values.Any(s => s.InitialTrainLoss is not null);
        var abstentions = r.Judge.Abstentions is not null;
        sb.AppendLine("## Preference models").AppendLine();
        sb.AppendLine("| principle | held-out accuracy vs judge |" + (truth ? " vs ground truth |" : "") + (losses ? " loss before | loss after |" : "")
            + " weight | orders disagreed |" + (abstentions ? " abstentions |" : ""));
        sb.AppendLine("|---|---|" + (truth ? "---|" : "") + (losses ? "---|---|" : "") + "---|---|" + (abstentions ? "---|" : ""));
        foreach (var (p, s) in r.PreferenceModels)
            sb.AppendLine($"| {p} | {F(s.HeldOutAccuracy)} |" + (truth ? $" {(s.GroundTruthAccuracy is { } g ? F(g) : "-")} |" : "")
                + (losses ? $" {(s.InitialTrainLoss is { } l ? F(l) : "-")} | {F(s.FinalTrainLoss)} |" : "")
                + $" {(r.Weights.TryGetValue(p, out var w) ? F(w) : "-")} | {P(r.Judge.OrdersDisagreed.GetValueOrDefault(p))} |"
                + (abstentions ? $" {r.Judge.Abstentions!.GetValueOrDefault(p)} |" : ""));
        sb.AppendLine();
    }

    /// <summary>
    /// Each arm's first and last iteration (its algorithm beside its name where it is not PPO; the value head's figure
    /// only where there is one), each principle PM's reward on its rollouts then, and the reward-hacking check where the
    /// truth is known (it never chooses settings).
    /// </summary>
    private static void AppendPpo(StringBuilder sb, RunReport r)
    {
        string Arm(string arm) => r.Config.PolicyArms.FirstOrDefault(a => a.Name == arm) is { } spec && r.Config.ForArm(spec).Ppo.Algorithm is var algorithm
            && algorithm != Ppo.RlAlgorithm.Ppo ? $"{arm} ({algorithm})" : arm;
        static string Fn(double x) => double.IsNaN(x) ? "-" : F(x);
        sb.AppendLine("## PPO (first and last iteration of each arm)").AppendLine();
        sb.AppendLine("| arm | iteration | proxy reward | true preference | KL | KL coef | approx KL | clip fraction | entropy | explained variance | response tokens |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (arm, stats) in r.Ppo)
            foreach (var s in stats.Count > 1 ? [stats[0], stats[^1]] : stats)
                sb.AppendLine($"| {Arm(arm)} | {s.Iteration} | {F(s.MeanScore)} | {(s.Truth?.TryGetValue(Ppo.RewardHackingCheck.TruthKey, out var t) == true ? F(t) : "-")} | {F(s.MeanKl)} | {F(s.KlCoef)} | "
                    + $"{Fn(s.ApproxKl)} | {Fn(s.ClipFraction)} | {Fn(s.Entropy)} | {Fn(s.ExplainedVariance)} | {s.MeanResponseTokens.ToString("F1", C)} |");
        sb.AppendLine();
        if (r.Ppo.Values.Any(stats => stats.Count > 0 && stats[0].PrincipleRewards is not null))
        {
            sb.AppendLine("Each PM's reward on the rollouts (normalised by the PM's training statistics; mean ± sd), first and last iteration:").AppendLine();
            sb.AppendLine("| arm | PM | first | last | change |").AppendLine("|---|---|---|---|---|");
            foreach (var (arm, stats) in r.Ppo)
                if (stats.Count > 0 && stats[0].PrincipleRewards is { } first && stats[^1].PrincipleRewards is { } last)
                    foreach (var (q, a) in first)
                        if (last.TryGetValue(q, out var b))
                            sb.AppendLine($"| {Arm(arm)} | {q} | {F(a.Mean)} ± {F(a.Sd)} | {F(b.Mean)} ± {F(b.Sd)} | {(b.Mean >= a.Mean ? "+" : "")}{F(b.Mean - a.Mean)} |");
            sb.AppendLine();
        }
        foreach (var (arm, stats) in r.Ppo)
            if (Ppo.RewardHackingCheck.Of(stats) is { } h)
                sb.AppendLine($"- {arm}: proxy reward {(h.ProxyChange >= 0 ? "+" : "")}{F(h.ProxyChange)}, true preference {(h.TrueChange >= 0 ? "+" : "")}{F(h.TrueChange)} "
                    + $"(± {F(h.TrueChangeStandardError)}) from the first third of the iterations to the last: {(h.Flagged ? "**reward hacking: the proxy rose while the truth fell**" : "no sign of reward hacking")}");
        sb.AppendLine();
    }

    private static void AppendSamples(StringBuilder sb, EvaluationResult e)
    {
        sb.AppendLine("## Sample responses").AppendLine();
        foreach (var s in e.Samples)
        {
            sb.AppendLine($"- **{s.Prompt.Trim().Replace("\n", " ", StringComparison.Ordinal)}**  ").AppendLine($"  MORLAIF: {s.Morlaif}  ").Append($"  baseline: {s.Baseline}");
            if (s.Sft is not null) sb.AppendLine("  ").Append($"  SFT: {s.Sft}");
            if (s.Verdict is { } v) sb.AppendLine("  ").Append($"  judge: {(v > 0 ? "MORLAIF" : v < 0 ? "baseline" : "tie")}");
            sb.AppendLine();
        }
        sb.AppendLine();
    }
}
