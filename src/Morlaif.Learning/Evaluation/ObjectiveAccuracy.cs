using Morlaif.Learning.Runs;
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
        Correct(objective, scoresA, scoresB, aPreferred).Average(c => c ? 1.0 : 0.0);

    /// <summary>Per pair, whether the objective ranks the preferred response higher (McNemar's test pairs these).</summary>
    public static bool[] Correct(ScalarizedReward objective, IReadOnlyList<double[]> scoresA, IReadOnlyList<double[]> scoresB, IReadOnlyList<bool> aPreferred) =>
        [.. Enumerable.Range(0, scoresA.Count).Select(n => (objective.Reward(scoresA[n]) > objective.Reward(scoresB[n])) == aPreferred[n])];

    /// <summary>
    /// The ablation curve: for each of <paramref name="orders"/> random orders of removal, and each number of principles
    /// kept, refit the weights on the fitting pairs and measure the linear objective on the test pairs; each point is the
    /// mean over the orders (with the lowest and highest). Random orders rather than dropping the weakest first, which
    /// would make a decline almost certain.
    /// </summary>
    public static List<AblationPoint> Ablation(
        IReadOnlyList<string> principles,
        (IReadOnlyList<double[]> A, IReadOnlyList<double[]> B, IReadOnlyList<bool> APreferred) fit,
        (IReadOnlyList<double[]> A, IReadOnlyList<double[]> B, IReadOnlyList<bool> APreferred) test,
        int orders, Random rng)
    {
        var cache = new Dictionary<string, double>();
        double Accuracy(int[] keep)
        {
            var key = string.Join(",", keep.Order());
            if (cache.TryGetValue(key, out var known)) return known;
            double[] Pick(double[] row) => keep.Select(i => row[i]).ToArray();
            var w = PrincipleWeights.Fit(keep.Select(i => principles[i]).ToArray(), fit.A.Select(Pick).ToList(), fit.B.Select(Pick).ToList(), fit.APreferred);
            return cache[key] = Of(new ScalarizedReward(w.Weights, new WeightedLinear()), test.A.Select(Pick).ToList(), test.B.Select(Pick).ToList(), test.APreferred);
        }
        var permutations = Enumerable.Range(0, orders).Select(_ => Enumerable.Range(0, principles.Count).OrderBy(_ => rng.Next()).ToArray()).ToList();
        return [.. Enumerable.Range(1, principles.Count).Reverse().Select(kept =>
        {
            var accuracies = permutations.Select(order => Accuracy(order[..kept])).ToList();
            return new AblationPoint(kept, accuracies.Average(), accuracies.Min(), accuracies.Max());
        })];
    }
}
