namespace Morlaif.Learning.Scalarization;

/// <summary>The combined objective: weights each principle's normalised PM score, then scalarizes.</summary>
public sealed record ScalarizedReward(IReadOnlyList<double> Weights, IScalarizer Scalarizer)
{
    public double Reward(IReadOnlyList<double> normalizedScores)
    {
        if (normalizedScores.Count != Weights.Count)
            throw new ArgumentException($"expected {Weights.Count} principle scores, got {normalizedScores.Count}", nameof(normalizedScores));
        return Scalarizer.Combine(normalizedScores.Select((r, i) => Weights[i] * r).ToArray());
    }
}
