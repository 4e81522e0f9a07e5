namespace Morlaif.Learning.Statistics;

/// <summary>An estimate with its 95% interval.</summary>
public sealed record Interval(double Estimate, double Low, double High)
{
    public override string ToString() => $"{Estimate:F3} [{Low:F3}, {High:F3}]";
}

/// <summary>
/// The percentile bootstrap over two levels, as an experiment's data are: seeds (independent training runs),
/// then prompts within a seed (paired per-prompt outcomes, e.g. +1 win, 0 tie, -1 loss). Each resample draws
/// the seeds with replacement, then each drawn seed's prompts with replacement, and takes the mean over all
/// drawn outcomes. Resampling only prompts would treat one seed's luck as certain; resampling only seeds would
/// ignore how few prompts each seed has.
/// </summary>
public static class HierarchicalBootstrap
{
    /// <param name="outcomes">one list per seed, one value per prompt</param>
    public static Interval Mean(IReadOnlyList<IReadOnlyList<double>> outcomes, int resamples = 4000, int seed = 1)
    {
        if (outcomes.Count == 0 || outcomes.Any(s => s.Count == 0))
            throw new ArgumentException("every seed needs at least one outcome", nameof(outcomes));
        var estimate = outcomes.SelectMany(s => s).Average();
        var rng = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            double sum = 0;
            long n = 0;
            for (var i = 0; i < outcomes.Count; i++)
            {
                var drawn = outcomes[rng.Next(outcomes.Count)];
                for (var j = 0; j < drawn.Count; j++) sum += drawn[rng.Next(drawn.Count)];
                n += drawn.Count;
            }
            means[r] = sum / n;
        }
        Array.Sort(means);
        return new Interval(estimate, Percentile(means, 0.025), Percentile(means, 0.975));
    }

    /// <summary>The q-quantile of sorted values, by linear interpolation between order statistics (numpy's default).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        var h = (sorted.Count - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
