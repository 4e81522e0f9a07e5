using Morlaif.Learning.Scalarization;

namespace Morlaif.Learning.Tests.Scalarization;

// Expected values are worked out by hand in the comments, not by calling the code under test.
public class ScalarizerTests
{
    private static readonly double[] R = [1.0, -2.0, 0.5, 3.0];

    [Fact]
    public void Linear_is_the_sum() => Assert.Equal(2.5, new WeightedLinear().Combine(R), 12); // 1 - 2 + 0.5 + 3

    [Fact]
    public void Worst_case_is_the_minimum() => Assert.Equal(-2.0, new WorstCase().Combine(R), 12);

    [Fact]
    public void Soft_max_min_weights_by_softmax_of_negated_scores()
    {
        // p ∝ exp(-r): e^-1 = 0.3678794, e^2 = 7.3890561, e^-0.5 = 0.6065307, e^-3 = 0.0497871; Z = 8.4132533
        // R = (0.3678794*1 + 7.3890561*(-2) + 0.6065307*0.5 + 0.0497871*3) / Z = -13.9576063 / 8.4132533 = -1.659002
        Assert.Equal(-1.659002, new SoftMaxMin().Combine(R), 5);
    }

    [Fact]
    public void Soft_max_min_tends_to_min_at_low_temperature() =>
        Assert.Equal(-2.0, new SoftMaxMin(temperature: 0.01).Combine(R), 6);

    [Fact]
    public void Uncertainty_weighted_subtracts_half_the_population_variance()
    {
        // mean 0.625; squared deviations 0.140625, 6.890625, 0.015625, 5.640625 → variance 12.6875/4 = 3.171875
        // R = 0.625 - 0.5 * 3.171875 = -0.9609375
        Assert.Equal(-0.9609375, new UncertaintyWeighted().Combine(R), 12);
    }

    [Fact]
    public void Lower_quantile_averages_the_floor_n_over_3_smallest()
    {
        Assert.Equal(-2.0, new LowerQuantile().Combine(R), 12); // floor(4/3) = 1 → {-2}
        Assert.Equal(-0.5, new LowerQuantile().Combine([4, 0, -1, 5, 2, 3, 9]), 12); // floor(7/3) = 2 → {-1, 0}
        Assert.Equal(1.0, new LowerQuantile().Combine([1, 2]), 12); // n < 3 still uses the smallest one
    }

    [Fact]
    public void Max_median_is_the_median()
    {
        Assert.Equal(0.75, new MaxMedian().Combine(R), 12); // sorted -2, 0.5, 1, 3 → (0.5 + 1) / 2
        Assert.Equal(2.0, new MaxMedian().Combine([5, 2, -1]), 12);
    }

    [Fact]
    public void Bernoulli_nash_is_the_geometric_mean_of_softplus_scores()
    {
        // softplus(1) = 1.313262, softplus(-2) = 0.126928, softplus(0.5) = 0.974077, softplus(3) = 3.048587
        // product = 0.494981 ; fourth root = 0.838781
        Assert.Equal(0.838781, new BernoulliNash().Combine(R), 5);
    }

    [Fact]
    public void Bernoulli_nash_fix_is_monotone_where_the_plain_product_flips_sign()
    {
        double[] twoBad = [-2, -3, 1];
        double[] oneBetter = [-2, 1, 1]; // the second principle improved from -3 to 1
        var plainProduct = (double[] r) => r.Aggregate(1.0, (a, b) => a * b);
        Assert.True(plainProduct(oneBetter) < plainProduct(twoBad)); // the paper code's defect: better is scored lower
        var nash = new BernoulliNash();
        Assert.True(nash.Combine(oneBetter) > nash.Combine(twoBad));
        Assert.True(nash.Combine(twoBad) > 0);
    }

    [Fact]
    public void All_seven_functions_are_found_by_their_config_names()
    {
        string[] names = ["linear", "worst-case", "soft-max-min", "uncertainty-weighted", "lower-quantile", "max-median", "bernoulli-nash"];
        foreach (var name in names) Assert.Equal(name, Scalarizers.Get(name).Name);
        Assert.Equal(names.Order(), Scalarizers.Names.Order());
        var e = Assert.Throws<ArgumentException>(() => Scalarizers.Get("nash"));
        Assert.Contains("'nash'", e.Message);
    }

    [Fact]
    public void Scalarized_reward_applies_the_weights_first()
    {
        var reward = new ScalarizedReward([2.0, -1.0], new WorstCase());
        Assert.Equal(-3.0, reward.Reward([1.0, 3.0]), 12); // r~ = (2, -3)
        Assert.Throws<ArgumentException>(() => reward.Reward([1.0]));
    }
}
