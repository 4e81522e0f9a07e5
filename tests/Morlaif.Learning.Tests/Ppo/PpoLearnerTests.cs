using Morlaif.Learning.Ppo;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Ppo;

public class PpoLearnerTests
{
    /// <summary>
    /// A reward with a known optimum and a signal from the first rollout: the share of response tokens
    /// that are among the first 30 words of the vocabulary (about 13% for a random policy, 100% at best).
    /// </summary>
    private sealed class TargetWordsReward(int promptLength) : IRewardModel
    {
        public double[] Score(IReadOnlyList<int[]> sequences) => sequences
            .Select(s => s[promptLength..].Count(id => id > WordTokenizer.Unk && id <= WordTokenizer.Unk + 30) / (double)Math.Max(1, s.Length - promptLength))
            .ToArray();
    }

    private static readonly int[] Prompt = Tiny.Tokenizer.EncodePrompt("what is the capital of japan ?");
    private static List<int[]> Prompts(int n) => Enumerable.Range(0, n).Select(_ => Prompt).ToList();

    private static PpoSettings Settings => new()
    {
        RolloutsPerIteration = 24, MaxNewTokens = 12, Epochs = 4, MiniBatches = 2, LearningRate = 3e-3, InitKlCoef = 0.01,
    };

    [Fact]
    public void Ppo_raises_the_reward_on_a_tiny_problem()
    {
        var policy = Tiny.Policy(7);
        using var learner = new PpoLearner(new WorldPpoPolicy(policy, policy.Clone()), new TargetWordsReward(Prompt.Length), Settings, seed: 7);
        var stats = Enumerable.Range(0, 15).Select(_ => learner.Step(Prompts(24))).ToList();
        var first = stats.Take(3).Average(s => s.MeanScore);
        var last = stats.TakeLast(3).Average(s => s.MeanScore);
        Assert.True(last > first + 0.2, $"mean reward {first:F3} -> {last:F3}");
        Assert.True(stats[^1].MeanKl > 0); // it moved away from the reference, and the KL term saw it
        // The update's health signs: the k3 estimate is never negative, shares are shares, and a policy that learns a
        // target sharpens (its entropy falls) while its value head comes to explain part of the returns.
        Assert.All(stats, s => Assert.True(s.ApproxKl >= 0 && s.ClipFraction is >= 0 and <= 1 && s.Entropy > 0 && s.ExplainedVariance <= 1, s.ToString()));
        Assert.Contains(stats, s => s.ApproxKl > 0 && s.ClipFraction > 0);
        Assert.True(stats.TakeLast(3).Average(s => s.Entropy) < stats.Take(3).Average(s => s.Entropy), "entropy did not fall");
        Assert.True(stats.TakeLast(3).Average(s => s.ExplainedVariance) > 0, "the value head explains nothing");
    }

    /// <summary>
    /// GRPO and RLOO learn the same tiny problem without a value head, across several seeds (each its own trajectory,
    /// so the margin is one every seed clears on any CPU): 24 rollouts as 6 prompts' groups of 4.
    /// </summary>
    [Theory]
    [InlineData(RlAlgorithm.Grpo)]
    [InlineData(RlAlgorithm.Rloo)]
    public void A_critic_free_learner_raises_the_reward_on_a_tiny_problem(string algorithm)
    {
        var gains = new List<double>();
        foreach (var seed in new[] { 7, 17, 27 })
        {
            var policy = Tiny.Policy(seed);
            var settings = Settings with { Algorithm = algorithm, GroupSize = 4 };
            var actor = new WorldPpoPolicy(policy, policy.Clone(), valueHead: false);
            using var learner = new PpoLearner(actor, new TargetWordsReward(Prompt.Length), settings, seed);
            Assert.DoesNotContain(actor.Trainable.Keys, k => k.StartsWith("value_head", StringComparison.Ordinal));
            var stats = Enumerable.Range(0, 15).Select(_ => learner.Step(Prompts(24))).ToList();
            gains.Add(stats.TakeLast(3).Average(s => s.MeanScore) - stats.Take(3).Average(s => s.MeanScore));
            // No value head: no value loss and nothing it could explain; the update's other signs as PPO's.
            Assert.All(stats, s => Assert.True(double.IsNaN(s.ValueLoss) && double.IsNaN(s.ExplainedVariance) && s.ApproxKl >= 0 && s.ClipFraction is >= 0 and <= 1 && s.Entropy > 0, s.ToString()));
            Assert.True(stats[^1].MeanKl > 0);
            // GRPO's β is a fixed loss weight; RLOO's adapts as PPO's.
            if (algorithm == RlAlgorithm.Grpo) Assert.All(stats, s => Assert.Equal(settings.KlLossCoef, s.KlCoef));
            else Assert.NotEqual(settings.InitKlCoef, stats[^1].KlCoef);
        }
        Assert.True(gains.Min() > 0.05 && gains.Average() > 0.1, $"{algorithm}: mean reward gains {string.Join(", ", gains.Select(g => g.ToString("F3")))}");
    }

    [Fact]
    public void A_critic_free_learner_refuses_rollouts_that_do_not_split_into_groups()
    {
        var policy = Tiny.Policy(3);
        using var learner = new PpoLearner(new WorldPpoPolicy(policy, policy.Clone(), valueHead: false), new TargetWordsReward(Prompt.Length),
            Settings with { Algorithm = RlAlgorithm.Grpo, GroupSize = 5 }, 3);
        var e = Assert.Throws<ArgumentException>(() => learner.Step(Prompts(24)));
        Assert.Contains("groups of 5", e.Message);
    }

    [Theory]
    [InlineData(RlAlgorithm.Ppo)]
    [InlineData(RlAlgorithm.Grpo)]
    [InlineData(RlAlgorithm.Rloo)]
    public void A_resumed_learner_continues_exactly_where_the_checkpoint_left_off(string algorithm)
    {
        var settings = Settings with { Algorithm = algorithm };
        var valueHead = algorithm == RlAlgorithm.Ppo;
        var reference = Tiny.Policy(8);
        var policyA = new WorldPpoPolicy(reference.Clone(), reference.Clone(), valueHead);
        var a = new PpoLearner(policyA, new TargetWordsReward(Prompt.Length), settings, seed: 8);
        a.Step(Prompts(24));
        a.Step(Prompts(24));
        var checkpoint = a.SaveCheckpoint();
        a.Step(Prompts(24));
        var statsA = a.Step(Prompts(24));

        // A fresh process: new learner with a differently initialised policy, restored from the checkpoint.
        var policyB = new WorldPpoPolicy(Tiny.Policy(99), reference.Clone(), valueHead);
        var b = new PpoLearner(policyB, new TargetWordsReward(Prompt.Length), settings, seed: 8);
        b.LoadCheckpoint(checkpoint);
        Assert.Equal(2, b.Iteration);
        b.Step(Prompts(24));
        var statsB = b.Step(Prompts(24));

        Assert.Equal(statsA.Iteration, statsB.Iteration);
        Assert.Equal(statsA.MeanScore, statsB.MeanScore, 6);
        Assert.Equal(a.Kl.Value, b.Kl.Value, 12);
        Assert.Equal(a.RewardMoments.Count, b.RewardMoments.Count);
        Assert.Equal(statsA, statsB);
        Assert.Equal(a.RewardMoments.Mean, b.RewardMoments.Mean);
        // Byte for byte, policy and optimizer state alike.
        Assert.Equal(Tiny.Weights(policyA.Model), Tiny.Weights(policyB.Model));
        Assert.Equal(a.SaveCheckpoint(), b.SaveCheckpoint());
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void A_checkpoint_of_another_kind_is_refused()
    {
        using var learner = new PpoLearner(new WorldPpoPolicy(Tiny.Policy(9), Tiny.Policy(9)), new TargetWordsReward(Prompt.Length), Settings, 9);
        var e = Assert.Throws<InvalidDataException>(() => learner.LoadCheckpoint("NOT-A-CHECKPOINT"u8.ToArray()));
        Assert.Contains("not a MORLAIF ppo-learner checkpoint", e.Message);
        var policy = Assert.Throws<InvalidDataException>(() => learner.LoadCheckpoint(Tiny.Policy(9).ToBytes()));
        Assert.Contains("it is a 'policy' checkpoint", policy.Message);
    }
}
