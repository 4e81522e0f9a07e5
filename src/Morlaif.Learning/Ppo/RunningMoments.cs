namespace Morlaif.Learning.Ppo;

/// <summary>Running mean and variance of rewards (parallel Welford), for trlx's "running" reward scaling.</summary>
public sealed class RunningMoments
{
    public double Mean { get; private set; }
    public double Variance { get; private set; } = 1;
    public long Count { get; private set; }

    public double Std => Math.Sqrt(Variance);

    public void Update(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) return;
        var n = xs.Count;
        var mean = xs.Average();
        var variance = xs.Select(x => (x - mean) * (x - mean)).Average();
        if (Count == 0)
        {
            (Mean, Variance, Count) = (mean, variance, n);
            return;
        }
        var total = Count + n;
        var delta = mean - Mean;
        var m2 = Variance * Count + variance * n + delta * delta * Count * n / total;
        (Mean, Variance, Count) = (Mean + delta * n / total, m2 / total, total);
    }

    internal void Restore(double mean, double variance, long count) => (Mean, Variance, Count) = (mean, variance, count);
}
