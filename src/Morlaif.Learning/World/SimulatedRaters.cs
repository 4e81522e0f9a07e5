namespace Morlaif.Learning.World;

/// <summary>
/// The world's human raters, as noisy as real ones: a rater prefers A with probability σ(Beta · (T(A) - T(B))), T the
/// true preference (Bradley-Terry on the truth). Beta is fixed so that two independent raters agree on about 70% of the
/// world's response pairs, as HH-RLHF's crowdworkers agree with each other (roughly 65-75%); a test measures it. Ties in
/// truth are a coin flip. The weights are fitted on these labels; accuracies are measured against the noise-free truth.
/// </summary>
public static class SimulatedRaters
{
    public const double Beta = 2.0;

    /// <summary>The probability that a rater prefers A.</summary>
    public static double PreferA(double truthA, double truthB) => 1 / (1 + Math.Exp(-Beta * (truthA - truthB)));

    /// <summary>One rater's verdict: true when A is preferred.</summary>
    public static bool Rate(double truthA, double truthB, Random rng) => rng.NextDouble() < PreferA(truthA, truthB);
}
