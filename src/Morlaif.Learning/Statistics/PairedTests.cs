namespace Morlaif.Learning.Statistics;

/// <summary>
/// Exact tests for paired comparisons. The sign test asks whether wins and losses (ties dropped) are equally
/// likely; McNemar's test asks whether two classifiers scored on the same pairs are equally accurate, from the
/// pairs on which exactly one is right. Both are the two-sided binomial test with p = 1/2.
/// </summary>
public static class PairedTests
{
    /// <summary>Two-sided exact p-value of <paramref name="wins"/> against <paramref name="losses"/> under p = 1/2.</summary>
    public static double Sign(int wins, int losses)
    {
        var n = wins + losses;
        if (n == 0) return 1;
        var k = Math.Min(wins, losses);
        // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so that large n does not overflow.
        var logTail = double.NegativeInfinity;
        for (var i = 0; i <= k; i++) logTail = LogAdd(logTail, LogChoose(n, i) - n * Math.Log(2));
        return Math.Min(1, 2 * Math.Exp(logTail));
    }

    /// <summary>
    /// McNemar's exact test: <paramref name="onlyFirstRight"/> pairs where the first classifier alone is right,
    /// <paramref name="onlySecondRight"/> where the second alone is.
    /// </summary>
    public static double McNemar(int onlyFirstRight, int onlySecondRight) => Sign(onlyFirstRight, onlySecondRight);

    /// <summary>Holm's step-down adjusted p-values, in the order given: family-wise error controlled across the family.</summary>
    public static double[] Holm(IReadOnlyList<double> pValues)
    {
        var m = pValues.Count;
        var order = Enumerable.Range(0, m).OrderBy(i => pValues[i]).ToArray();
        var adjusted = new double[m];
        var running = 0.0;
        for (var rank = 0; rank < m; rank++)
        {
            running = Math.Max(running, Math.Min(1, (m - rank) * pValues[order[rank]]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }

    private static double LogChoose(int n, int k)
    {
        double s = 0;
        for (var i = 1; i <= k; i++) s += Math.Log(n - k + i) - Math.Log(i);
        return s;
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        var (hi, lo) = a > b ? (a, b) : (b, a);
        return hi + Math.Log(1 + Math.Exp(lo - hi));
    }
}
