using Morlaif.Learning.Ppo;

namespace Morlaif.Learning.Tests.Ppo;

public class PpoPartsTests
{
    [Fact]
    public void Kl_coefficient_rises_above_target_and_falls_below_it()
    {
        var up = new AdaptiveKlController(0.05, target: 6, horizon: 10000);
        up.Update(currentKl: 9, steps: 100); // error clipped to +0.2 → × (1 + 0.2 * 100 / 10000)
        Assert.Equal(0.05 * 1.002, up.Value, 12);
        var down = new AdaptiveKlController(0.05, 6, 10000);
        down.Update(currentKl: 4.8, steps: 1000); // error -0.2 → × 0.98
        Assert.Equal(0.05 * 0.98, down.Value, 12);
        var steady = new AdaptiveKlController(0.05, 6, 10000);
        steady.Update(6, 1000);
        Assert.Equal(0.05, steady.Value, 12);
    }

    [Fact]
    public void Kl_coefficient_moves_proportionally_inside_the_clip()
    {
        var c = new AdaptiveKlController(0.1, target: 6, horizon: 100);
        c.Update(currentKl: 6.6, steps: 50); // error 0.1 → × 1.05
        Assert.Equal(0.105, c.Value, 12);
    }

    [Fact]
    public void Gae_matches_a_hand_computation()
    {
        // γ = 1, λ = 0.5; rewards (0, 0, 1), values (0.5, 0.2, 0.4), V after the end = 0
        // δ2 = 1 - 0.4 = 0.6;  δ1 = 0 + 0.4 - 0.2 = 0.2;  δ0 = 0 + 0.2 - 0.5 = -0.3
        // A2 = 0.6;  A1 = 0.2 + 0.5*0.6 = 0.5;  A0 = -0.3 + 0.5*0.5 = -0.05
        var (adv, ret) = Gae.Compute([0, 0, 1], [0.5, 0.2, 0.4], gamma: 1, lambda: 0.5);
        Assert.Equal([-0.05, 0.5, 0.6], adv.Select(a => Math.Round(a, 10)));
        Assert.Equal([0.45, 0.7, 1.0], ret.Select(r => Math.Round(r, 10)));
    }

    [Fact]
    public void Running_moments_equal_the_statistics_of_everything_seen()
    {
        var m = new RunningMoments();
        double[] a = [1, 2, 3, 10], b = [-4, 0.5], c = [7];
        m.Update(a);
        m.Update(b);
        m.Update(c);
        var all = a.Concat(b).Concat(c).ToArray();
        var mean = all.Average();
        Assert.Equal(mean, m.Mean, 10);
        Assert.Equal(all.Average(x => (x - mean) * (x - mean)), m.Variance, 10);
        Assert.Equal(all.Length, m.Count);
    }
}
