using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Tests.Weights;

public class PrincipleWeightsTests
{
    [Fact]
    public void Logistic_regression_recovers_known_coefficients()
    {
        var rng = new Random(11);
        double[] truth = [1.5, -0.7, 0.0];
        var x = new List<double[]>();
        var y = new List<double>();
        for (var n = 0; n < 20000; n++)
        {
            var row = new[] { Gauss(rng), Gauss(rng), Gauss(rng) };
            x.Add(row);
            y.Add(rng.NextDouble() < LogisticRegression.Sigmoid(LogisticRegression.Dot(row, truth)) ? 1 : 0);
        }
        var beta = LogisticRegression.Fit(x, y);
        for (var i = 0; i < truth.Length; i++) Assert.InRange(beta[i], truth[i] - 0.08, truth[i] + 0.08);
    }

    [Fact]
    public void Weights_follow_the_principles_that_predict_the_preference_and_match_the_standardised_fit()
    {
        // The overall preference depends on principle 0 only, principle 1 is noise, principle 2 counts against it.
        var rng = new Random(12);
        var a = new List<double[]>();
        var b = new List<double[]>();
        var aWins = new List<bool>();
        for (var n = 0; n < 3000; n++)
        {
            double[] sa = [Gauss(rng) * 2, Gauss(rng), Gauss(rng)], sb = [Gauss(rng) * 2, Gauss(rng), Gauss(rng)];
            a.Add(sa);
            b.Add(sb);
            aWins.Add(1.0 * (sa[0] - sb[0]) - 0.5 * (sa[2] - sb[2]) + 0.3 * Gauss(rng) > 0);
        }
        var w = PrincipleWeights.Fit(["p0", "p1", "p2"], a, b, aWins);
        Assert.True(w.Weights[0] > 1.0);
        Assert.True(Math.Abs(w.Weights[1]) < 0.3 * w.Weights[0]);
        Assert.True(w.Weights[2] < -0.3);
        // Weight = standardised coefficient / sd of the difference; the diffs of principle 0 have sd ≈ 2√2.
        Assert.InRange(w.StandardizedCoefficients[0] / w.Weights[0], 2.6, 3.05);
    }

    [Fact]
    public void Score_normalizer_standardises()
    {
        var n = ScoreNormalizer.Fit([1, 2, 3, 4]);
        Assert.Equal(2.5, n.Mean, 12);
        Assert.Equal(0, n.Normalize(2.5), 12);
        Assert.Equal(1, n.Normalize(2.5 + Math.Sqrt(1.25)), 12);
        Assert.Equal(1, ScoreNormalizer.Fit([3, 3, 3]).Std); // constant scores do not divide by zero
    }

    private static double Gauss(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
