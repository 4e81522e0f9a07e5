namespace Morlaif.Learning.Ppo;

/// <summary>Scores complete sequences (bos prompt sep response [eos]) with one scalar reward each.</summary>
public interface IRewardModel
{
    double[] Score(IReadOnlyList<int[]> sequences);

    /// <summary>
    /// The rewards of one iteration's rollouts, whose consecutive runs of <paramref name="group"/> share a prompt, with
    /// each principle's PM score where the reward has principles. A reward without principles scores them one by one.
    /// </summary>
    RolloutRewards ScoreRollouts(IReadOnlyList<int[]> sequences, int group, string normalization) => new(Score(sequences), null);
}

/// <summary>
/// One iteration's rewards and, per principle of the reward, its PM's mean and sd over the rollouts (each score
/// normalised by the PM's training statistics, whatever <see cref="PpoSettings.RewardNormalization"/> says, so that
/// iterations can be compared: within a group every principle's mean would be 0).
/// </summary>
public sealed record RolloutRewards(double[] Rewards, IReadOnlyDictionary<string, PrincipleReward>? Principles);

/// <summary>A principle PM's mean and sample sd over one iteration's rollouts.</summary>
public sealed record PrincipleReward(double Mean, double Sd)
{
    public static PrincipleReward Of(IReadOnlyList<double> xs)
    {
        var mean = xs.Average();
        var sd = xs.Count < 2 ? 0 : Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
        return new PrincipleReward(mean, sd);
    }
}
