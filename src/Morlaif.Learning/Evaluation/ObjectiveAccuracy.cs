using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Evaluation;

/// <summary>
/// How well a combined objective predicts the true (human) preference on held-out pairs: the fraction
/// of pairs with a true winner on which the objective ranks that winner higher.
/// </summary>
public static class ObjectiveAccuracy
{
    /// <param name="scoresA">normalised PM scores of response A: [pair][principle]</param>
    public static double Of(ScalarizedReward objective, IReadOnlyList<double[]> scoresA, IReadOnlyList<double[]> scoresB, IReadOnlyList<bool> aPreferred) =>
        Enumerable.Range(0, scoresA.Count)
            .Select(n => (objective.Reward(scoresA[n]) > objective.Reward(scoresB[n])) == aPreferred[n] ? 1.0 : 0.0)
            .Average();

    /// <summary>
    /// The ablation curve: refit the weights on the fitting pairs, measure the linear objective's accuracy
    /// on the test pairs, drop the principle with the smallest standardised coefficient, repeat down to one.
    /// </summary>
    public static List<(IReadOnlyList<string> Principles, double Accuracy)> Ablation(
        IReadOnlyList<string> principles,
        (IReadOnlyList<double[]> A, IReadOnlyList<double[]> B, IReadOnlyList<bool> APreferred) fit,
        (IReadOnlyList<double[]> A, IReadOnlyList<double[]> B, IReadOnlyList<bool> APreferred) test)
    {
        var keep = Enumerable.Range(0, principles.Count).ToList();
        var curve = new List<(IReadOnlyList<string>, double)>();
        while (keep.Count > 0)
        {
            double[] Pick(double[] row) => keep.Select(i => row[i]).ToArray();
            var names = keep.Select(i => principles[i]).ToArray();
            var w = PrincipleWeights.Fit(names, fit.A.Select(Pick).ToList(), fit.B.Select(Pick).ToList(), fit.APreferred);
            var acc = Of(new ScalarizedReward(w.Weights, new WeightedLinear()), test.A.Select(Pick).ToList(), test.B.Select(Pick).ToList(), test.APreferred);
            curve.Add((names, acc));
            var weakest = Enumerable.Range(0, keep.Count).MinBy(i => Math.Abs(w.StandardizedCoefficients[i]));
            keep.RemoveAt(weakest);
        }
        return curve;
    }
}
