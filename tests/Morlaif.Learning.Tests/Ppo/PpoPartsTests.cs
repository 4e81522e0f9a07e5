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
    public void Grpo_advantages_standardise_each_group_by_its_sample_sd()
    {
        // Group (1, 2, 3, 6): mean 3, sample sd sqrt((4 + 1 + 0 + 9) / 3) = 2.1602; group (5, 5): sd 0, so 0 (not NaN).
        var a = GroupAdvantages.Standardized([1, 2, 3, 6, 5, 5, 5, 5], 4);
        var sd = Math.Sqrt(14.0 / 3);
        Assert.Equal([-2 / (sd + 1e-4), -1 / (sd + 1e-4), 0, 3 / (sd + 1e-4), 0, 0, 0, 0], a, new RoundedEquality());
    }

    [Fact]
    public void Rloo_advantages_subtract_the_mean_of_the_other_samples()
    {
        // Pairs: (1, 2) -> -1, 1; (3, 6) -> -3, 3 ... each minus its sibling. Groups of 4 below: 1 - (2+3+6)/3 = -8/3, 2 - 10/3, 3 - 3, 6 - 2.
        var a = GroupAdvantages.LeaveOneOut([1, 2, 3, 6, 4, 0], 2);
        Assert.Equal([-1, 1, -3, 3, 4, -4], a, new RoundedEquality());
        var four = GroupAdvantages.LeaveOneOut([1, 2, 3, 6], 4);
        Assert.Equal([-8 / 3.0, -4 / 3.0, 0, 4], four, new RoundedEquality());
        Assert.Throws<ArgumentException>(() => GroupAdvantages.LeaveOneOut([1, 2, 3], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupAdvantages.Standardized([1, 2], 1));
    }

    private sealed class RoundedEquality : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void K3_kl_is_zero_at_the_reference_and_grows_as_the_policy_leaves_it()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new float[] { 1, 1, 0 });
        var reference = tensor(new float[] { -1, -2, -3 });
        Assert.Equal(0, PpoLosses.K3Kl(reference, reference, mask).item<float>(), 6);
        // d = log π_ref - log π = (-1 - -1.5, -2 - -1) = (0.5, -1): exp(d) - d - 1 = (0.1487, 0.3679), masked mean 0.2583.
        var policy = tensor(new float[] { -1.5f, -1, 9 });
        var expected = (Math.Exp(0.5) - 1.5 + Math.Exp(-1)) / 2;
        Assert.Equal(expected, PpoLosses.K3Kl(policy, reference, mask).item<float>(), 5);
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
