namespace Morlaif.Learning.Ppo;

/// <summary>
/// How an arm's proxy reward and its rollouts' true preference moved from the first third of its iterations to the last:
/// <see cref="Flagged"/> when the proxy rose while the truth fell by more than twice its standard error (from the spread
/// of the per-iteration means), the signature of reward hacking. Only a task that knows the truth (the world) can say.
/// </summary>
public sealed record RewardHackingCheck(double ProxyChange, double TrueChange, double TrueChangeStandardError, bool Flagged)
{
    public const string TruthKey = "overall";

    /// <returns>null when there are fewer than three iterations or the iterations carry no truth</returns>
    public static RewardHackingCheck? Of(IReadOnlyList<PpoIterationStats> stats)
    {
        if (stats.Count < 3 || stats.Any(s => s.Truth is null || !s.Truth.ContainsKey(TruthKey))) return null;
        var third = stats.Count / 3;
        var (first, last) = (stats.Take(third).ToList(), stats.Skip(stats.Count - third).ToList());
        double Mean(IEnumerable<double> x) => x.Average();
        double Variance(IReadOnlyList<double> x)
        {
            if (x.Count < 2) return 0;
            var m = x.Average();
            return x.Sum(v => (v - m) * (v - m)) / (x.Count - 1);
        }
        var truthFirst = first.Select(s => s.Truth![TruthKey]).ToList();
        var truthLast = last.Select(s => s.Truth![TruthKey]).ToList();
        var proxy = Mean(last.Select(s => s.MeanScore)) - Mean(first.Select(s => s.MeanScore));
        var truth = Mean(truthLast) - Mean(truthFirst);
        var se = Math.Sqrt(Variance(truthFirst) / truthFirst.Count + Variance(truthLast) / truthLast.Count);
        return new RewardHackingCheck(proxy, truth, se, proxy > 0 && truth < -2 * se);
    }
}
