using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Tests.Statistics;

/// <summary>The seed-level t interval: its quantiles against printed tables, and its coverage where the bootstrap's falls short.</summary>
public class SeedLevelTests
{
    [Theory]
    // Student's t, two-sided 95% (the 0.975 quantile), from the standard tables; df 1 is tan(0.475 pi).
    [InlineData(1, 12.7062)]
    [InlineData(4, 2.7764)]
    [InlineData(9, 2.2622)]
    [InlineData(19, 2.0930)]
    [InlineData(100, 1.9840)]
    public void The_t_quantile_is_the_tables(int df, double expected) => Assert.Equal(expected, SeedLevel.TQuantile(0.975, df), 4);

    [Fact]
    public void The_interval_is_the_mean_plus_and_minus_t_standard_errors()
    {
        // Mean 2, sd 1 (values 1, 2, 3), n 3: 2 +- 4.3027 / sqrt(3).
        var i = SeedLevel.T([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, i.Estimate, 12);
        Assert.Equal(2 - 4.302653 / Math.Sqrt(3), i.Low, 5);
        Assert.Equal(2 + 4.302653 / Math.Sqrt(3), i.High, 5);
        Assert.True(double.IsNaN(SeedLevel.T([0.5]).Low)); // one seed: no interval
        Assert.Equal("inconclusive", SeedLevel.Verdict(SeedLevel.T([0.5])));
        Assert.Equal("ahead", SeedLevel.Verdict(new Interval(1, 0.1, 2)));
        Assert.Equal("behind", SeedLevel.Verdict(new Interval(-1, -2, -0.1)));
        Assert.Equal("inconclusive", SeedLevel.Verdict(new Interval(1, -0.1, 2)));
    }

    /// <summary>
    /// Five seeds whose per-prompt outcomes share a seed effect (seed-to-seed spread larger than within-seed noise, as in
    /// the experiment): the t interval over seeds covers the true mean about 95% of the time, the two-level percentile
    /// bootstrap visibly less (why the report gives both, and its verdicts follow the first).
    /// </summary>
    [Fact]
    public void At_five_seeds_the_t_interval_covers_and_the_two_level_bootstrap_under_covers()
    {
        var random = new Random(7);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        const int trials = 600, seeds = 5, prompts = 40;
        int t = 0, bootstrap = 0;
        for (var trial = 0; trial < trials; trial++)
        {
            var outcomes = Enumerable.Range(0, seeds).Select(_ =>
            {
                var seedEffect = Normal();
                return (IReadOnlyList<double>)[.. Enumerable.Range(0, prompts).Select(_ => seedEffect + 0.5 * Normal())];
            }).ToList();
            var byT = SeedLevel.T([.. outcomes.Select(o => o.Average())]);
            var byBootstrap = HierarchicalBootstrap.Mean(outcomes, resamples: 400, seed: trial + 1);
            if (byT.Low <= 0 && 0 <= byT.High) t++;
            if (byBootstrap.Low <= 0 && 0 <= byBootstrap.High) bootstrap++;
        }
        var tCoverage = (double)t / trials;
        var bootstrapCoverage = (double)bootstrap / trials;
        Assert.InRange(tCoverage, 0.93, 0.97);
        Assert.InRange(bootstrapCoverage, 0.70, 0.90);
    }
}
