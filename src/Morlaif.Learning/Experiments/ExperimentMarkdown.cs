using System.Globalization;
using System.Text;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Experiments;

/// <summary>experiment.md: the four findings as tables, every figure with its 95% interval and the seeds it stands on.</summary>
public static class ExperimentMarkdown
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static string Pct(Interval i) => string.Create(C, $"{100 * i.Estimate:F1} [{100 * i.Low:F1}, {100 * i.High:F1}]");

    private static string Acc(Interval i) => string.Create(C, $"{i.Estimate:F3} [{i.Low:F3}, {i.High:F3}]");

    /// <summary>A seed-level interval: as <see cref="Pct"/> or <see cref="Acc"/>, or "one seed" where it has no bounds.</summary>
    private static string BySeed(Interval? i, Func<Interval, string> format) =>
        i is null || double.IsNaN(i.Estimate) ? "-" : double.IsNaN(i.Low) ? "one seed" : format(i);

    private static void MatchedKl(StringBuilder sb, IEnumerable<MatchedKlComparison> rows)
    {
        sb.AppendLine("| X | against | KL | seeds | not reached | X - Y true preference (by seed) | verdict |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var c in rows)
            sb.AppendLine(string.Create(C, $"| {c.X} | {c.Y} | {c.Kl} | {c.Seeds} | {c.NotReached} | {BySeed(c.Difference, Acc)} | {c.Verdict} |"));
        sb.AppendLine();
    }

    private static string P(double p) => p < 0.001 ? "<0.001" : p.ToString("F3", C);

    public static string Render(ExperimentReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Experiment").AppendLine();
        sb.AppendLine(string.Create(C, $"{r.Cells} cells, {r.ComputeSeconds / 60:F0} min of compute. Baseline `{r.Run.Baseline}`, principles {string.Join(", ", r.Run.Principles)}.")
            + " Intervals are 95% percentile bootstrap, resampling seeds and then prompts (or pairs) within each seed; "
            + "the sign test counts seeds on which X is ahead against seeds on which it is behind. \"By seed\" is the 95% Student t "
            + "interval over the seeds' own values (one per seed), which covers at few seeds where the bootstrap does not; "
            + "the verdicts follow it: ahead or behind where it excludes zero, else inconclusive.").AppendLine();
        if (r.Machines.Count > 0)
            sb.AppendLine("Computed on: " + string.Join("; ", r.Machines.Select(m => string.Create(C, $"{m.Key} ({m.Value} cells)"))) + ".").AppendLine();

        sb.AppendLine("## 1. MORLAIF against the single-objective baseline (true preference, per prompt)").AppendLine();
        if (r.Finding1 is { } f)
        {
            Comparisons(sb, [f], holm: false);
            if (r.Finding1Unseen is { } u)
            {
                sb.AppendLine("On the prompts asked with templates no training stage saw:").AppendLine();
                Comparisons(sb, [u], holm: false);
            }
        }
        else sb.AppendLine("No seed has both policies yet.").AppendLine();
        if (r.Controls.Count > 0)
        {
            sb.AppendLine("The other baselines: `baseline-human` (the control) is the baseline's PM trained on its AI labels plus the same human labels "
                + "MORLAIF fits its weights on. With matched budgets, each pair is judged on as many drawn constitution principles as MORLAIF "
                + "has principles, so the baseline gets as many judge calls as MORLAIF: `baseline-pooled` is one PM on all those labels, "
                + "`baseline-ensemble` the mean of one PM per draw (as many PMs as MORLAIF's).").AppendLine();
            Comparisons(sb, r.Controls, holm: false);
        }

        if (r.Paths.Count > 0)
        {
            sb.AppendLine("### Along the optimisation path: true preference against KL from the SFT policy").AppendLine();
            sb.AppendLine("Each arm's policy at the end of every PPO chunk, on the same held-out prompts (iteration 0 is the SFT policy); "
                + "KL per response, the mean over seeds; true preference and its difference from SFT with the t interval over seeds.").AppendLine();
            sb.AppendLine("| arm | seeds | iteration | KL | true preference | minus SFT |").AppendLine("|---|---|---|---|---|---|");
            foreach (var path in r.Paths)
                foreach (var p in path.Points)
                    sb.AppendLine(string.Create(C, $"| {path.Arm}{(p == path.Peak ? " (peak)" : "")} | {path.Seeds} | {p.Iteration} | {p.Kl:F2} | {BySeed(p.Truth, Acc)} | {BySeed(p.VsSft, Acc)} |"));
            sb.AppendLine();
        }
        if (r.Paths.Count > 0)
        {
            sb.AppendLine("Reward hacking against where each arm started and its own peak (t intervals over seeds; the peak is the iteration "
                + "of highest mean true preference, chosen on the same seeds, so \"final minus peak\" leans negative):").AppendLine();
            sb.AppendLine("| arm | seeds | peak iteration | peak minus SFT | final minus SFT | final minus peak | verdict |").AppendLine("|---|---|---|---|---|---|---|");
            foreach (var path in r.Paths)
                sb.AppendLine(string.Create(C, $"| {path.Arm} | {path.Seeds} | {path.Peak.Iteration} | {BySeed(path.Peak.VsSft, Acc)} | {BySeed(path.Final.VsSft, Acc)} | {BySeed(path.FinalVsPeak, Acc)} | {path.Verdict} |"));
            sb.AppendLine();
        }
        if (r.AtMatchedKl.Count > 0)
        {
            sb.AppendLine("At matched KL (each seed's two paths read at the same KL, linear between evaluated points; seeds where an arm never reached it are left out):").AppendLine();
            MatchedKl(sb, r.AtMatchedKl);
        }

        sb.AppendLine("## 2. The scalarization functions at the policy level").AppendLine();
        if (r.Finding2VsBaseline.Count == 0) sb.AppendLine("No seed has every scalarization's policy yet.").AppendLine();
        else
        {
            Comparisons(sb, r.Finding2VsBaseline, holm: true);
            var names = r.Finding2WinRates.Keys.ToList();
            sb.AppendLine("Win rate of the row against the column (ties count half), pooled over seeds and prompts:").AppendLine();
            sb.AppendLine("| | " + string.Join(" | ", names) + " |").AppendLine("|---|" + string.Concat(names.Select(_ => "---|")));
            foreach (var a in names)
                sb.AppendLine($"| {a} | " + string.Join(" | ", names.Select(b => a == b ? "-" : (100 * r.Finding2WinRates[a][b]).ToString("F1", C))) + " |");
            sb.AppendLine();
            if (r.Finding2Pairs.Count > 0)
            {
                sb.AppendLine("Every two scalarization functions against each other (the same seeds and prompts):").AppendLine();
                Comparisons(sb, r.Finding2Pairs, holm: false);
            }
            if (r.Finding2AtMatchedKl.Count > 0)
            {
                sb.AppendLine("MORLAIF's function against each other one at matched KL (read off the paths as in finding 1; each function's own "
                    + "path is in finding 1's path tables):").AppendLine();
                MatchedKl(sb, r.Finding2AtMatchedKl);
            }
        }

        sb.AppendLine("## 3. Combined objective against the single PM, by label budget (accuracy against the noise-free truth)").AppendLine();
        sb.AppendLine("| training pairs | seeds | test pairs | linear | single PM | linear - single | by seed | only linear right / only single right | McNemar p |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var b in r.Finding3)
            sb.AppendLine($"| {b.Budget} | {b.Seeds} | {b.Pairs} | {Acc(b.Linear)} | {Acc(b.Single)} | {Acc(b.Difference)} | {BySeed(b.DifferenceBySeed, Acc)} | {b.OnlyLinearRight} / {b.OnlySingleRight} | {P(b.McNemarP)} |");
        sb.AppendLine();
        if (r.Finding3.Any(b => b.Control is not null))
        {
            sb.AppendLine("The same against the control PM (the single PM trained on the human labels too):").AppendLine();
            sb.AppendLine("| training pairs | seeds | control PM | linear - control | by seed | only linear right / only control right | McNemar p |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var b in r.Finding3.Where(b => b.Control is not null))
                sb.AppendLine($"| {b.Budget} | {b.Seeds} | {Acc(b.Control!)} | {Acc(b.ControlDifference!)} | {BySeed(b.ControlDifferenceBySeed, Acc)} | {b.OnlyLinearRightVsControl} / {b.OnlyControlRight} | {P(b.McNemarControlP ?? double.NaN)} |");
            sb.AppendLine();
        }

        if (r.Finding3.Any(b => b.Matched.Count > 0))
        {
            sb.AppendLine("The same against the matched-budget baselines (as many judge calls as MORLAIF: one pooled PM, or the ensemble of one PM per draw):").AppendLine();
            sb.AppendLine("| training pairs | seeds | baseline | accuracy | linear - it | by seed | only linear right / only it right | McNemar p |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var b in r.Finding3)
                foreach (var m in b.Matched)
                    sb.AppendLine($"| {b.Budget} | {b.Seeds} | {m.Arm} | {Acc(m.Accuracy)} | {Acc(m.LinearMinus)} | {BySeed(m.LinearMinusBySeed, Acc)} | {m.OnlyLinearRight} / {m.OnlyBaselineRight} | {P(m.McNemarP)} |");
            sb.AppendLine();
        }

        sb.AppendLine("## 4. Accuracy as principles are removed (mean over random removal orders, then seeds)").AppendLine();
        sb.AppendLine("| principles kept | seeds | accuracy |").AppendLine("|---|---|---|");
        foreach (var a in r.Finding4) sb.AppendLine($"| {a.Principles} | {a.Seeds} | {Acc(a.Accuracy)} |");
        sb.AppendLine();

        if (r.PpoSettings.Count > 0)
        {
            sb.AppendLine("## PPO settings, compared by proxy reward and KL alone").AppendLine();
            var algorithms = r.PpoSettings.Select(p => p.Algorithm).Distinct().OrderBy(a => Array.IndexOf(RlAlgorithm.All, a)).ToList();
            string Chosen(string algorithm) => $"`{r.PpoSettingsChosen?.GetValueOrDefault(algorithm) ?? "none"}`";
            sb.AppendLine("The rule, fixed before the runs: among the settings whose every arm ends within the KL target "
                + string.Create(C, $"({r.Run.Ppo.KlTarget}), the best mean rank of final proxy reward across the arms")
                + (algorithms.Count == 1 ? $". Chosen: {Chosen(algorithms[0])}"
                    : ", within each RL algorithm. Chosen: " + string.Join(", ", algorithms.Select(a => $"{Chosen(a)} ({a})")))
                + ".").AppendLine();
            if (r.PpoSettingsChosenPerArm is { Count: > 0 } perArm)
            {
                var outside = ExperimentReport.OutsideKlTarget(r.PpoSettings, r.Run.Ppo.KlTarget);
                sb.AppendLine("The same rule for each arm alone (TUNING.md): " + string.Join(", ", perArm.Select(kv => $"{kv.Key} `{kv.Value}`")) + "."
                    + (outside.Count == 0 ? "" : $" No setting kept {string.Join(", ", outside)} within the KL target: each takes the setting with the lowest final KL.")).AppendLine();
            }
            sb.AppendLine("| settings | algorithm | arm | seeds | final proxy reward | proxy change | final KL | final approx KL | final KL coefficient |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var p in r.PpoSettings)
                sb.AppendLine(string.Create(C, $"| {p.Settings} | {p.Algorithm} | {p.Arm} | {p.Seeds} | {p.FinalProxy:F3} | {p.ProxyChange:+0.000;-0.000} | {p.FinalKl:F3} | {p.FinalApproxKl:F4} | {p.FinalKlCoef:F4} |"));
            sb.AppendLine();
        }

        if (r.Algorithms.Count > 0)
        {
            sb.AppendLine("## RL algorithms at a matched number of generated tokens").AppendLine();
            sb.AppendLine("Every algorithm runs the same iterations of the same rollouts per iteration; generated tokens are those rollouts' "
                + "responses' tokens, summed over iterations (mean over seeds). PPO seconds: the wall time of the arm's PPO chunks "
                + "(rollouts, scoring, advantages, updates, the world's truth on the rollouts, checkpoints), summed. Final proxy reward: "
                + "the last five iterations' rollouts; final KL: the last iteration's, per response. True preference: the arm's "
                + "evaluation answers, and their difference from the SFT policy's on the same prompts. Flagged: seeds the reward-hacking "
                + "check flagged, of those it could judge."
                + (r.Algorithms.Any(a => a.Watched > 0) ? " Judge monitor: seeds the judge watching the policy flagged, and seeds where it agreed with the truth-based check." : "")).AppendLine();
            var watched = r.Algorithms.Any(a => a.Watched > 0);
            sb.AppendLine("| algorithm | arm | training pairs | seeds | generated tokens | PPO seconds | final proxy reward | final KL | true preference | minus SFT | by seed | flagged |"
                + (watched ? " judge monitor flagged | agrees with the truth |" : ""));
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|" + (watched ? "---|---|" : ""));
            foreach (var a in r.Algorithms)
            {
                var arm = a.Arm + (a.Settings is null ? "" : $"@{a.Settings}") + (a.Baseline == r.Run.Baseline ? "" : $" ({a.Baseline})");
                sb.AppendLine(string.Create(C, $"| {a.Algorithm} | {arm} | {a.Budget} | {a.Seeds} | {a.GeneratedTokens:N0} | {a.Seconds:F0} | {a.FinalProxy:F3} | {a.FinalKl:F3} | {Acc(a.TruePreference)} | {Acc(a.VsSft)} | {BySeed(a.VsSftBySeed, Acc)} | {a.Flagged} / {a.Checked} |")
                    + (watched ? $" {a.MonitorFlagged} / {a.Watched} | {a.MonitorAgrees} / {a.Watched} |" : ""));
            }
            sb.AppendLine();
        }

        sb.AppendLine("## PPO").AppendLine();
        sb.AppendLine("| arm | seeds | proxy reward change | true preference change | flagged for reward hacking | final KL | final approx KL |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var p in r.Ppo)
            sb.AppendLine(string.Create(C, $"| {p.Arm} | {p.Seeds} | {p.MeanProxyChange:+0.000;-0.000} | {p.MeanTrueChange:+0.000;-0.000} | {p.Flagged} | {p.MeanFinalKl:F3} | {p.MeanFinalApproxKl:F4} |"));
        return sb.ToString();
    }

    private static void Comparisons(StringBuilder sb, IReadOnlyList<PairedComparison> rows, bool holm)
    {
        sb.AppendLine($"| X | against | seeds | prompts | X wins % | ties % | X loses % | wins - losses (points) | by seed | verdict | seeds ahead / behind | sign test p |{(holm ? " Holm p |" : "")}");
        sb.AppendLine($"|---|---|---|---|---|---|---|---|---|---|---|---|{(holm ? "---|" : "")}");
        foreach (var c in rows)
            sb.AppendLine($"| {c.X} | {c.Y} | {c.Seeds} | {c.Prompts} | {Pct(c.Win)} | {Pct(c.Tie)} | {Pct(c.Loss)} | {Pct(c.Net)} | {BySeed(c.NetBySeed, Pct)} | {c.Verdict} | {c.SeedsAhead} / {c.SeedsBehind} | {P(c.SignTestP)} |{(holm ? $" {P(c.HolmP ?? double.NaN)} |" : "")}");
        sb.AppendLine();
    }
}
