namespace Morlaif.Learning.Evaluation;

/// <summary>Outcome counts of pairwise comparisons of policy X against policy Y, and their shares.</summary>
public sealed record WinTieLoss(int Wins, int Ties, int Losses)
{
    public int Total => Wins + Ties + Losses;
    public double Win => Total == 0 ? 0 : (double)Wins / Total;
    public double Tie => Total == 0 ? 0 : (double)Ties / Total;
    public double Loss => Total == 0 ? 0 : (double)Losses / Total;

    /// <summary>Counts outcomes of +1 (win), 0 (tie) and -1 (loss).</summary>
    public static WinTieLoss Count(IEnumerable<int> outcomes)
    {
        int w = 0, t = 0, l = 0;
        foreach (var o in outcomes)
        {
            if (o > 0) w++;
            else if (o < 0) l++;
            else t++;
        }
        return new WinTieLoss(w, t, l);
    }

    /// <summary>
    /// The 95% Wilson score interval of the share <paramref name="count"/> / <see cref="Total"/> (sound at the small
    /// counts a judged evaluation of a Hugging Face run has).
    /// </summary>
    public (double Low, double High) Interval(int count)
    {
        if (Total == 0) return (0, 1);
        const double z = 1.959963984540054;
        var p = (double)count / Total;
        var denominator = 1 + z * z / Total;
        var center = (p + z * z / (2.0 * Total)) / denominator;
        var half = z * Math.Sqrt(p * (1 - p) / Total + z * z / (4.0 * Total * Total)) / denominator;
        return (Math.Max(0, center - half), Math.Min(1, center + half));
    }

    /// <summary>+1 when a beats b by more than the tolerance, -1 when b beats a, else 0.</summary>
    public static int Compare(double a, double b, double tolerance) => a - b > tolerance ? 1 : b - a > tolerance ? -1 : 0;
}
