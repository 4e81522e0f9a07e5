using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Tests.Statistics;

/// <summary>The experiment's statistics on fixed inputs, against values worked out by hand.</summary>
public class StatisticsTests
{
    [Fact]
    public void The_two_level_bootstrap_matches_its_exact_distribution()
    {
        // Seed 1's prompts score 0 and 1, seed 2's 1 and 1. Drawing two seeds, then two prompts of each, the sum of the
        // four draws is 0 with probability 1/64 and at most 1 with 5/64, so the 2.5% quantile of the mean is 1/4; it is
        // 4 with probability 25/64, so the 97.5% quantile is 1.
        var interval = HierarchicalBootstrap.Mean([[0.0, 1.0], [1.0, 1.0]], resamples: 20000);
        Assert.Equal(0.75, interval.Estimate, 12);
        Assert.Equal(0.25, interval.Low, 12);
        Assert.Equal(1.0, interval.High, 12);
    }

    [Fact]
    public void With_one_seed_it_is_the_ordinary_bootstrap_of_the_mean()
    {
        // 400 outcomes of +1 and -1, 240 and 160: mean 0.2, standard error sqrt(0.96 / 400) = 0.049, so the interval
        // is about 0.2 +/- 0.096.
        var outcomes = Enumerable.Repeat(1.0, 240).Concat(Enumerable.Repeat(-1.0, 160)).ToList();
        var interval = HierarchicalBootstrap.Mean([outcomes]);
        Assert.Equal(0.2, interval.Estimate, 12);
        Assert.InRange(interval.Low, 0.2 - 0.096 - 0.01, 0.2 - 0.096 + 0.01);
        Assert.InRange(interval.High, 0.2 + 0.096 - 0.01, 0.2 + 0.096 + 0.01);
    }

    [Fact]
    public void Seeds_that_disagree_widen_the_interval_beyond_what_prompts_alone_give()
    {
        // Three seeds whose prompts agree among themselves but whose means differ: resampling prompts alone would
        // give a narrow interval; drawing seeds keeps their spread.
        IReadOnlyList<double> Seed(double wins) => [.. Enumerable.Range(0, 100).Select(i => i < wins ? 1.0 : 0.0)];
        var spread = HierarchicalBootstrap.Mean([Seed(20), Seed(50), Seed(80)]);
        var pooled = HierarchicalBootstrap.Mean([[.. Seed(20).Concat(Seed(50)).Concat(Seed(80))]]);
        Assert.Equal(pooled.Estimate, spread.Estimate, 12);
        Assert.True(spread.High - spread.Low > 2 * (pooled.High - pooled.Low), $"{spread} against {pooled}");
    }

    [Fact]
    public void The_bootstrap_refuses_a_seed_without_outcomes() =>
        Assert.Throws<ArgumentException>(() => HierarchicalBootstrap.Mean([[1.0], []]));

    [Theory]
    // 9 wins and 1 loss: 2 (C(10,0) + C(10,1)) / 2^10 = 22 / 1024.
    [InlineData(9, 1, 22.0 / 1024)]
    [InlineData(1, 9, 22.0 / 1024)]
    // 5 and 5: the tail holds more than half, capped at 1.
    [InlineData(5, 5, 1.0)]
    [InlineData(0, 0, 1.0)]
    // 20 and 0: 2 / 2^20.
    [InlineData(20, 0, 2.0 / 1048576)]
    public void The_sign_test_is_the_exact_binomial(int wins, int losses, double expected) =>
        Assert.Equal(expected, PairedTests.Sign(wins, losses), 12);

    [Fact]
    public void The_sign_test_holds_at_thousands_of_pairs()
    {
        // 5,100 against 4,900: z = 200 / sqrt(10,000) / 1 = 2.0, two-sided about 0.0455 (0.0466 with continuity).
        Assert.InRange(PairedTests.Sign(5100, 4900), 0.044, 0.048);
    }

    [Fact]
    public void McNemar_counts_only_the_pairs_where_exactly_one_is_right()
    {
        // 12 against 3: 2 (1 + 15 + 105 + 455) / 2^15 = 1152 / 32768.
        Assert.Equal(1152.0 / 32768, PairedTests.McNemar(12, 3), 12);
    }

    [Fact]
    public void Holm_adjusts_step_down_and_keeps_the_order_monotone()
    {
        // Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04, lifted to 0.06.
        var adjusted = PairedTests.Holm([0.01, 0.04, 0.03, 0.005]);
        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted.Select(p => Math.Round(p, 12)).ToArray());
        Assert.Equal([1.0, 1.0], PairedTests.Holm([0.6, 0.7]));
    }
}
