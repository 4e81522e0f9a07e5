using System.Globalization;
using System.Text;
using Morlaif.Learning.Ppo;

namespace Morlaif.Learning.Runs;

/// <summary>
/// What the judge watching an arm's policy saw (<see cref="PolicyMonitor"/>): each principle's flag over the checks and,
/// where the truth is known (the world), whether the monitor's verdict on the arm agrees with the truth-based
/// reward-hacking check: the only place the monitor itself can be checked.
/// </summary>
public sealed record ArmMonitor(int Checks, IReadOnlyList<MonitorFlag> Principles, bool Flagged, bool? TruthFlagged)
{
    /// <summary>Whether the monitor's flag of the arm and the truth's agree; null without a truth.</summary>
    public bool? AgreesWithTruth => TruthFlagged is { } t ? t == Flagged : null;

    /// <returns>null when the arm's iterations carry no check</returns>
    public static ArmMonitor? Of(IReadOnlyList<PpoIterationStats> stats)
    {
        var checks = stats.Count(s => s.Monitor is not null);
        if (checks == 0) return null;
        var flags = MonitorFlag.Of(stats);
        return new ArmMonitor(checks, flags, flags.Any(f => f.Flagged), RewardHackingCheck.Of(stats)?.Flagged);
    }

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>report.md's section: per arm and principle, the judge's preference for the policy over SFT and the PM's agreement with it, first and last check.</summary>
    public static void Append(StringBuilder sb, RunReport r)
    {
        var arms = r.Ppo.Select(kv => (Arm: kv.Key, Stats: kv.Value, Monitor: Of(kv.Value))).Where(x => x.Monitor is not null).ToList();
        if (arms.Count == 0) return;
        static string P(double x) => double.IsNaN(x) ? "-" : (100 * x).ToString("F0", C) + "%";
        static string F(double x) => x.ToString("F2", C);
        sb.AppendLine("## The judge watching the policy").AppendLine();
        sb.AppendLine("Every few iterations the policy and the SFT policy answer the same prompts; the run's judge compares the answers per principle, "
            + "in both orders, and the principle's PM scores them. A principle is flagged when the judge's preference for the policy fell from its peak "
            + "by more than twice its standard error while the PM's margin kept rising.").AppendLine();
        sb.AppendLine("| arm | principle | judge prefers policy: first → peak → last check | PM agrees with judge | PM margin: peak → last | flag |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var (arm, stats, monitor) in arms)
        {
            var checks = stats.Where(s => s.Monitor is not null).ToList();
            foreach (var f in monitor!.Principles)
            {
                var first = checks[0].Monitor![f.Principle].JudgePrefersPolicy;
                var agree = checks.Select(s => s.Monitor![f.Principle].PmAgreesWithJudge).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
                sb.AppendLine($"| {arm} | {f.Principle} | {P(first)} → {P(f.PeakJudge)} (iteration {f.PeakIteration}) → {P(f.LastJudge)} | {P(agree)} | "
                    + $"{F(f.PeakPmMargin)} → {F(f.LastPmMargin)} | {(f.Flagged ? "**flagged**" : "-")} |");
            }
        }
        sb.AppendLine();
        foreach (var (arm, _, monitor) in arms)
        {
            var flagged = monitor!.Principles.Where(f => f.Flagged).Select(f => f.Principle).ToList();
            var verdict = flagged.Count > 0 ? $"flagged ({string.Join(", ", flagged)})" : "nothing flagged";
            var truth = monitor.TruthFlagged is { } t
                ? $"; the truth-based check {(t ? "flags" : "does not flag")} it: the monitor {(monitor.AgreesWithTruth == true ? "agrees" : "disagrees")}"
                : "";
            sb.AppendLine($"- {arm}: {monitor.Checks} checks, {verdict}{truth}");
        }
        sb.AppendLine();
    }
}
