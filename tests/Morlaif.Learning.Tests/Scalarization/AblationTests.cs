using Morlaif.Learning.Evaluation;

namespace Morlaif.Learning.Tests.Scalarization;

public class AblationTests
{
    [Fact]
    public void Random_orders_average_what_a_principle_carries_over_the_subsets_that_keep_it()
    {
        // Principle 0 decides every pair; principles 1-3 are noise. With all four kept the objective is right on every pair;
        // with one kept it is right only in the orders that keep principle 0 (a quarter of them, in expectation), and at
        // chance in the others. Dropping the weakest first would keep principle 0 to the end and show no decline at all.
        var rng = new Random(4);
        (List<double[]> A, List<double[]> B, List<bool> W) Set(int n)
        {
            var (a, b, w) = (new List<double[]>(), new List<double[]>(), new List<bool>());
            for (var i = 0; i < n; i++)
            {
                var aWins = rng.Next(2) == 0;
                a.Add([aWins ? 1 : -1, rng.NextDouble(), rng.NextDouble(), rng.NextDouble()]);
                b.Add([aWins ? -1 : 1, rng.NextDouble(), rng.NextDouble(), rng.NextDouble()]);
                w.Add(aWins);
            }
            return (a, b, w);
        }
        var (fit, test) = (Set(400), Set(2000));
        var curve = ObjectiveAccuracy.Ablation(["signal", "n1", "n2", "n3"], fit, test, orders: 200, new Random(1));

        Assert.Equal([4, 3, 2, 1], curve.Select(p => p.Principles));
        Assert.Equal(1.0, curve[0].Accuracy, 3);
        Assert.Equal(1.0, curve[3].Highest, 3);
        Assert.InRange(curve[3].Lowest, 0.45, 0.55);
        // E = 1/4 * 1 + 3/4 * 0.5 = 0.625, give or take the orders drawn.
        Assert.InRange(curve[3].Accuracy, 0.58, 0.67);
        Assert.True(curve.Zip(curve.Skip(1)).All(x => x.First.Accuracy >= x.Second.Accuracy - 0.01));
    }
}
