namespace Morlaif.Learning.Ppo;

/// <summary>Scores complete sequences (bos prompt sep response [eos]) with one scalar reward each.</summary>
public interface IRewardModel
{
    double[] Score(IReadOnlyList<int[]> sequences);
}
