using Morlaif.Learning.Ppo;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Ppo;

public class RewardNormalizationTests
{
    /// <summary>A PM whose raw score of a sequence is a fixed function of it: its last token times a scale.</summary>
    private sealed class LastTokenScorer(double scale) : IPreferenceScorer
    {
        public Device Device => CPU;
        public Tensor Score(IReadOnlyList<int[]> sequences) => tensor(ScoreAll(sequences));
        public double[] ScoreAll(IReadOnlyList<int[]> sequences) => [.. sequences.Select(s => scale * s[^1])];
        public IReadOnlyDictionary<string, TorchSharp.Modules.Parameter> Trainable { get; } = new Dictionary<string, TorchSharp.Modules.Parameter>();
        public IReadOnlyDictionary<string, Tensor> State { get; } = new Dictionary<string, Tensor>();
        public void SetTraining(bool training) { }
    }

    private static readonly int[][] Sequences = [[1, 1], [1, 2], [1, 3], [1, 6], [1, 4], [1, 4], [1, 0], [1, 8]];

    private static PreferenceModelReward Reward(IScalarizer scalarizer) => new(
    [
        new PrincipleScorer("small", new LastTokenScorer(1), new ScoreNormalizer(2, 4)),
        new PrincipleScorer("large", new LastTokenScorer(100), new ScoreNormalizer(0, 10)),
    ], new ScalarizedReward([1.0, 0.5], scalarizer));

    [Fact]
    public void Fixed_normalisation_is_the_reward_the_fit_measured()
    {
        var reward = Reward(new WeightedLinear());
        var rollouts = reward.ScoreRollouts(Sequences, 4, RewardNormalization.Fixed);
        Assert.Equal(reward.Score(Sequences), rollouts.Rewards);
        // Each PM's reward on the rollouts, in its training statistics' units: small (x - 2) / 4, large 100 x / 10.
        var small = Sequences.Select(s => (s[^1] - 2) / 4.0).ToArray();
        Assert.Equal(small.Average(), rollouts.Principles!["small"].Mean, 12);
        Assert.Equal(Math.Sqrt(small.Sum(x => (x - small.Average()) * (x - small.Average())) / 7), rollouts.Principles["small"].Sd, 12);
        Assert.Equal(Sequences.Average(s => 10.0 * s[^1]), rollouts.Principles["large"].Mean, 9);
    }

    public static TheoryData<string> EveryScalarizer => [.. Scalarizers.Names];

    [Theory]
    [MemberData(nameof(EveryScalarizer))]
    public void Group_normalisation_standardises_each_principle_within_its_group_before_the_scalarizer(string name)
    {
        var scalarizer = Scalarizers.Get(name);
        var rollouts = Reward(scalarizer).ScoreRollouts(Sequences, 4, RewardNormalization.Group);
        // Each PM's raw scores standardised within each group of 4: its scale and its training statistics are gone
        // (the two PMs differ by a factor of 100 and rank alike, so they come out nearly equal: ε is added to the sd).
        var small = GroupAdvantages.Standardized([.. Sequences.Select(s => (double)s[^1])], 4);
        var large = GroupAdvantages.Standardized([.. Sequences.Select(s => 100.0 * s[^1])], 4);
        Assert.All(small.Zip(large), x => Assert.Equal(x.First, x.Second, 3));
        var expected = small.Select((x, i) => new ScalarizedReward([1.0, 0.5], scalarizer).Reward([x, large[i]])).ToArray();
        Assert.Equal(expected.Length, rollouts.Rewards.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], rollouts.Rewards[i], 9);
        // The reported rewards stay in the PMs' own units, comparable across iterations.
        Assert.Equal(Reward(scalarizer).ScoreRollouts(Sequences, 4, RewardNormalization.Fixed).Principles!["large"], rollouts.Principles!["large"]);
    }
}
