namespace Morlaif.Learning.Weights;

/// <summary>Per-PM normalisation: raw PM logits have arbitrary offsets and scales, so each is standardised.</summary>
public sealed record ScoreNormalizer(double Mean, double Std)
{
    public double Normalize(double raw) => (raw - Mean) / Std;

    public static ScoreNormalizer Fit(IReadOnlyList<double> raw)
    {
        var mean = raw.Average();
        var std = Math.Sqrt(raw.Select(r => (r - mean) * (r - mean)).Average());
        return new ScoreNormalizer(mean, std > 1e-8 ? std : 1);
    }
}

/// <summary>
/// The principle weights w_i (METHOD.md, stage 3): a logistic regression that predicts the overall
/// ("human") preference from the per-principle score differences s_i(A) - s_i(B), every pair also
/// mirrored with the opposite label. Features are standardised before the fit, as in the paper, and
/// <see cref="StandardizedCoefficients"/> are the coefficients it reports. <see cref="Weights"/> are the
/// same coefficients divided by each feature's standard deviation, so that Σ w_i s_i is exactly the
/// fitted model's logit on normalised PM scores: the weights the linear scalarization uses.
/// </summary>
public sealed record PrincipleWeights(IReadOnlyList<string> Principles, IReadOnlyList<double> Weights, IReadOnlyList<double> StandardizedCoefficients)
{
    /// <param name="scoresA">normalised PM scores of response A, one row per pair, one column per principle</param>
    /// <param name="aPreferred">the overall preference of each pair (ties excluded by the caller)</param>
    public static PrincipleWeights Fit(IReadOnlyList<string> principles, IReadOnlyList<double[]> scoresA, IReadOnlyList<double[]> scoresB, IReadOnlyList<bool> aPreferred)
    {
        var k = principles.Count;
        var x = new List<double[]>();
        var y = new List<double>();
        for (var n = 0; n < scoresA.Count; n++)
        {
            var d = Enumerable.Range(0, k).Select(i => scoresA[n][i] - scoresB[n][i]).ToArray();
            x.Add(d);
            y.Add(aPreferred[n] ? 1 : 0);
            x.Add(d.Select(v => -v).ToArray());
            y.Add(aPreferred[n] ? 0 : 1);
        }
        // Mirroring makes every feature's mean zero, so standardising is dividing by the standard deviation.
        var sd = Enumerable.Range(0, k).Select(i => Math.Sqrt(x.Average(r => r[i] * r[i]))).Select(s => s > 1e-12 ? s : 1).ToArray();
        var standardized = x.Select(r => r.Select((v, i) => v / sd[i]).ToArray()).ToList();
        var beta = LogisticRegression.Fit(standardized, y);
        return new PrincipleWeights(principles, beta.Select((b, i) => b / sd[i]).ToArray(), beta);
    }
}
