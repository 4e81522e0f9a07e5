using Morlaif.Learning.Ppo;

namespace Morlaif.Learning.Tests.Ppo;

public class RewardHackingCheckTests
{
    private static List<PpoIterationStats> Stats(Func<int, double> proxy, Func<int, double>? truth, int n = 9) =>
        [.. Enumerable.Range(0, n).Select(i => new PpoIterationStats(i + 1, proxy(i), 0, 0, 0, 0, 10,
            Truth: truth is null ? null : new Dictionary<string, double> { [RewardHackingCheck.TruthKey] = truth(i) }))];

    [Fact]
    public void A_rising_proxy_with_a_falling_truth_is_flagged()
    {
        // First third: truth 0.50, 0.52, 0.48; last third: 0.30, 0.32, 0.28. Change -0.2, standard error sqrt(2 * 0.0004 / 3).
        double[] truth = [0.50, 0.52, 0.48, 0.4, 0.4, 0.4, 0.30, 0.32, 0.28];
        var check = RewardHackingCheck.Of(Stats(i => 0.1 * i, i => truth[i]))!;
        Assert.Equal(0.6, check.ProxyChange, 12);
        Assert.Equal(-0.2, check.TrueChange, 12);
        Assert.Equal(Math.Sqrt(2 * 0.0004 / 3), check.TrueChangeStandardError, 12);
        Assert.True(check.Flagged);
    }

    [Theory]
    [InlineData(0.0)]   // truth flat
    [InlineData(0.05)]  // truth rising with the proxy
    public void A_proxy_that_the_truth_follows_is_not_flagged(double slope)
    {
        var check = RewardHackingCheck.Of(Stats(i => 0.1 * i, i => slope * i + (i % 2 == 0 ? 0.01 : -0.01)))!;
        Assert.False(check.Flagged);
    }

    [Fact]
    public void A_fall_within_the_noise_is_not_flagged()
    {
        double[] truth = [0.5, 0.7, 0.3, 0.5, 0.5, 0.5, 0.45, 0.65, 0.25];
        Assert.False(RewardHackingCheck.Of(Stats(i => 0.1 * i, i => truth[i]))!.Flagged);
    }

    [Fact]
    public void Without_truth_or_with_too_few_iterations_there_is_nothing_to_say()
    {
        Assert.Null(RewardHackingCheck.Of(Stats(i => i, null)));
        Assert.Null(RewardHackingCheck.Of(Stats(i => i, i => -i, n: 2)));
    }
}
