using Morlaif.Learning.Ppo;
using static TorchSharp.torch;

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
    public void Gae_matches_a_hand_computation_and_ignores_what_lies_outside_the_responses()
    {
        // Row 0, a response at positions 1-3: γ = 1, λ = 0.5; rewards (0, 0, 1), values (0.5, 0.2, 0.4), V after the end = 0
        // δ3 = 1 - 0.4 = 0.6;  δ2 = 0 + 0.4 - 0.2 = 0.2;  δ1 = 0 + 0.2 - 0.5 = -0.3
        // A3 = 0.6;  A2 = 0.2 + 0.5*0.6 = 0.5;  A1 = -0.3 + 0.5*0.5 = -0.05
        // Row 1, a response at positions 0-1 then padding whose rewards and values must not count:
        // δ1 = 2 - 1 = 1;  δ0 = 1 + 1 - 0.5 = 1.5;  A1 = 1;  A0 = 1.5 + 0.5*1 = 2
        using var rewards = tensor(new double[] { 9, 0, 0, 1, 1, 2, 5, 5 }, [2, 4]);
        using var values = tensor(new float[] { 9, 0.5f, 0.2f, 0.4f, 0.5f, 1, 7, 7 }, [2, 4]);
        using var mask = tensor(new float[] { 0, 1, 1, 1, 1, 1, 0, 0 }, [2, 4]);
        var (adv, ret) = Gae.Compute(rewards, values, mask, gamma: 1, lambda: 0.5);
        Assert.Equal(ScalarType.Float64, adv.dtype);
        Assert.Equal([0, -0.05, 0.5, 0.6, 2, 1, 0, 0], adv.data<double>().ToArray().Select(a => Math.Round(a, 6)));
        Assert.Equal([0, 0.45, 0.7, 1.0, 2.5, 2, 0, 0], ret.data<double>().ToArray().Select(r => Math.Round(r, 6)));
    }

    [Fact]
    public void The_response_mask_covers_the_actions_that_chose_the_response()
    {
        // Prompts of 3 and 2 tokens; sequences of 5 and 3: position j chose token j + 1.
        using var scope = NewDisposeScope();
        var batch = RolloutBatch.Create([[1, 2, 3], [1, 2]], [[1, 2, 3, 4, 5], [1, 2, 6]], CPU);
        Assert.Equal([2, 4], batch.Actions.shape);
        Assert.Equal([0f, 0, 1, 1, 0, 1, 0, 0], batch.Mask.data<float>().ToArray());
        Assert.Equal([3L, 1], batch.LastAction.data<long>().ToArray());
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
