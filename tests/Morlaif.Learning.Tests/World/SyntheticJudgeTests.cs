using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

public class SyntheticJudgeTests
{
    [Fact]
    public void One_order_shows_the_position_bias()
    {
        var judge = new SyntheticJudge(Sharpness: 1.5, PositionBias: 1.0, NoiseSd: 1.0);
        var rng = new Random(1);
        // Equal responses: an unbiased judge would say A half the time.
        var saysA = Enumerable.Range(0, 4000).Select(_ => judge.Ask(0, 0, rng)).Average(x => x.LogProbA > x.LogProbB ? 1.0 : 0.0);
        Assert.InRange(saysA, 0.78, 0.9); // P(N(0,1) > -1) = 0.841
    }

    [Fact]
    public void Asking_both_orders_cancels_the_position_bias()
    {
        var judge = new SyntheticJudge(Sharpness: 1.5, PositionBias: 1.0, NoiseSd: 1.0);
        var rng = new Random(2);
        var labels = Enumerable.Range(0, 4000).Select(_ => judge.Label(0, 0, rng)).ToList();
        var preferA = labels.Average(l => l.PreferA);
        Assert.InRange(preferA, 0.47, 0.53);
        Assert.True(labels.Count(l => l.OrdersDisagreed) > 1000); // the bias shows up as disagreement, i.e. ties
        Assert.All(labels.Where(l => l.OrdersDisagreed), l => Assert.Equal((0.5, 0.0), (l.PreferA, l.Margin)));
    }

    [Fact]
    public void Margins_grow_with_the_score_difference_and_are_capped_at_ten()
    {
        var judge = new SyntheticJudge(Sharpness: 1.5, PositionBias: 0, NoiseSd: 0.5);
        var rng = new Random(3);
        double MeanMargin(double d) => Enumerable.Range(0, 500).Select(_ => judge.Label(d, 0, rng)).Average(l => l.Margin);
        Assert.True(MeanMargin(2) > MeanMargin(0.5));
        Assert.True(MeanMargin(100) <= 10.0 + 1e-9);
        var (a, b) = judge.Ask(100, 0, rng);
        Assert.Equal(SyntheticJudge.MissingLogProb, b); // the other option fell out of the top 5
        Assert.True(a > -1e-3);
    }

    [Fact]
    public void More_noise_means_less_agreement_with_the_truth()
    {
        double Agreement(double noise)
        {
            var judge = new SyntheticJudge(NoiseSd: noise);
            var rng = new Random(4);
            return Enumerable.Range(0, 3000).Select(_ => judge.Label(0.5, 0, rng)).Average(l => l.PreferA);
        }
        Assert.True(Agreement(0.2) > Agreement(2.0) + 0.1);
    }
}
