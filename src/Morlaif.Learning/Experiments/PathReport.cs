using Morlaif.Learning.Stages;
using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Experiments;

/// <summary>
/// One point of an arm's optimisation path over the seeds: after <paramref name="Iteration"/> iterations (0: the SFT
/// policy), the mean KL to the SFT policy, the true preference of its evaluation answers and that minus the SFT
/// policy's on the same prompts, each a mean over seeds with its seed-level t interval.
/// </summary>
public sealed record PathRow(int Iteration, double Kl, Interval Truth, Interval VsSft);

/// <summary>
/// An arm's path over the seeds that evaluated it (evaluation.path), and its peak: the point of highest mean true
/// preference. <paramref name="FinalVsPeak"/>: each seed's last point minus its point at that peak iteration, with the t
/// interval over seeds; the peak is chosen on the same seeds, so this leans negative (a fall must clear that to count).
/// </summary>
public sealed record ArmPath(string Arm, int Seeds, IReadOnlyList<PathRow> Points, Interval FinalVsPeak)
{
    public PathRow Peak => Points.MaxBy(p => p.Truth.Estimate)!;

    public PathRow Final => Points[^1];

    /// <summary>
    /// Reward hacking read against where the arm started and its own peak: "falls from its peak" where the last point is
    /// below the peak by more than the seeds' spread, and whether it then ends above or below the SFT policy (or neither).
    /// </summary>
    public string Verdict
    {
        get
        {
            var fall = FinalVsPeak.High < 0 ? "falls from its peak" : "holds its peak";
            var end = Final.VsSft.Low > 0 ? "ends above SFT" : Final.VsSft.High < 0 ? "ends below SFT" : "ends level with SFT";
            return $"{fall}, {end}";
        }
    }
}

/// <summary>
/// X against Y at the same KL from the SFT policy: each seed's true preference of both arms read off their paths at
/// <paramref name="Kl"/> (linear between evaluated points), the difference per seed, and its seed-level t interval.
/// Seeds where either arm never reached that KL are left out and counted.
/// </summary>
public sealed record MatchedKlComparison(string X, string Y, double Kl, int Seeds, int NotReached, Interval Difference)
{
    public string Verdict => SeedLevel.Verdict(Difference);
}

/// <summary>The optimisation-path part of an experiment's report, from each cell's policy results.</summary>
public static class PathReport
{
    /// <summary>An arm's path from one seed's result, the SFT policy's answers as its iteration 0; null where the cell has no path.</summary>
    public static IReadOnlyList<(int Iteration, double Kl, double Truth, double VsSft)>? SeedPath(PolicyResult arm, PolicyResult sft)
    {
        if (arm.Path is not { Count: > 0 } path) return null;
        var sftPerPrompt = sft.PerPrompt();
        var sftMean = sftPerPrompt.Average();
        return
        [
            (0, 0.0, sftMean, 0.0),
            .. path.Select(p => (p.Iteration, p.Kl, p.Truth.Average(), p.Truth.Zip(sftPerPrompt, (a, b) => a - b).Average())),
        ];
    }

    /// <summary>An arm's path over the seeds: point by point (every seed evaluated the same iterations), each with its t interval.</summary>
    public static ArmPath? Summarise(string arm, IReadOnlyList<(PolicyResult Arm, PolicyResult Sft)> seeds)
    {
        var paths = seeds.Select(s => SeedPath(s.Arm, s.Sft)).OfType<IReadOnlyList<(int Iteration, double Kl, double Truth, double VsSft)>>().ToList();
        if (paths.Count == 0) return null;
        var count = paths.Min(p => p.Count);
        var points = Enumerable.Range(0, count).Select(i => new PathRow(paths[0][i].Iteration, paths.Average(p => p[i].Kl),
            SeedLevel.T([.. paths.Select(p => p[i].Truth)]), SeedLevel.T([.. paths.Select(p => p[i].VsSft)]))).ToList();
        var peak = points.IndexOf(points.MaxBy(p => p.Truth.Estimate)!);
        return new ArmPath(arm, paths.Count, points, SeedLevel.T([.. paths.Select(p => p[count - 1].Truth - p[peak].Truth)]));
    }

    /// <summary>X against Y at <paramref name="kl"/>, seed by seed (both paths from the same seed's cell).</summary>
    public static MatchedKlComparison? AtKl(string x, string y, double kl, IReadOnlyList<(PolicyResult X, PolicyResult Y, PolicyResult Sft)> seeds)
    {
        var differences = new List<double>();
        var notReached = 0;
        var evaluated = 0;
        foreach (var (px, py, sft) in seeds)
        {
            if (SeedPath(px, sft) is not { } a || SeedPath(py, sft) is not { } b) continue;
            evaluated++;
            if (TruthAt(a, kl) is { } ta && TruthAt(b, kl) is { } tb) differences.Add(ta - tb);
            else notReached++;
        }
        return evaluated == 0 ? null : new MatchedKlComparison(x, y, kl, differences.Count, notReached, SeedLevel.T(differences));
    }

    /// <summary>
    /// The true preference where the path first reaches <paramref name="kl"/>, linear between the two evaluated points
    /// around it; null when it never does. (KL mostly grows along a path; where it dips, the first crossing counts.)
    /// </summary>
    public static double? TruthAt(IReadOnlyList<(int Iteration, double Kl, double Truth, double VsSft)> path, double kl)
    {
        for (var i = 1; i < path.Count; i++)
        {
            var (a, b) = (path[i - 1], path[i]);
            if (b.Kl < kl || a.Kl > kl) continue;
            var t = b.Kl == a.Kl ? 1 : (kl - a.Kl) / (b.Kl - a.Kl);
            return a.Truth + t * (b.Truth - a.Truth);
        }
        return null;
    }
}
