namespace Morlaif.Learning.World;

/// <summary>
/// The synthetic AI judge. Asked which of two responses is "{principle phrase}", it answers "A" or "B"
/// with log-probabilities, as the paper's judge does with max_tokens=1 and top_logprobs=5. Its logit for
/// option A is  Sharpness * (s(A) - s(B)) + PositionBias + N(0, NoiseSd²), clipped to ±10 (a token missing
/// from the top 5 counts as -10). The ground-truth score s is the principle's scorer, or the true
/// preference for the single "overall" question: one noise model for both arms, so neither is favoured.
/// </summary>
public sealed record SyntheticJudge(double Sharpness = 1.5, double PositionBias = 0.5, double NoiseSd = 1.0)
{
    public const double MissingLogProb = -10;

    /// <summary>One question in one order: log-probs of "A" and "B".</summary>
    public (double LogProbA, double LogProbB) Ask(double scoreA, double scoreB, Random rng)
    {
        var logit = Math.Clamp(Sharpness * (scoreA - scoreB) + PositionBias + NoiseSd * Gaussian(rng), -10, 10);
        return (Math.Max(MissingLogProb, LogSigmoid(logit)), Math.Max(MissingLogProb, LogSigmoid(-logit)));
    }

    /// <summary>
    /// Asks in both orders, which cancels the position bias. Agreeing orders give a hard label with the
    /// mean margin; disagreeing orders give a tie (preference 0.5, margin 0) rather than trusting either.
    /// </summary>
    public PreferenceLabel Label(double scoreA, double scoreB, Random rng)
    {
        var (a1, b1) = Ask(scoreA, scoreB, rng);
        var (b2, a2) = Ask(scoreB, scoreA, rng); // B shown first
        var firstSaysA = a1 >= b1;
        var secondSaysA = a2 > b2;
        if (firstSaysA != secondSaysA) return new PreferenceLabel(0.5, 0, OrdersDisagreed: true);
        var margin = (Math.Abs(a1 - b1) + Math.Abs(a2 - b2)) / 2;
        return new PreferenceLabel(firstSaysA ? 1 : 0, margin, OrdersDisagreed: false);
    }

    private static double LogSigmoid(double x) => x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x));

    internal static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}

/// <summary>A judge's label for a pair: probability that A is better (1, 0 or 0.5 for a tie) and the log-prob margin.</summary>
public readonly record struct PreferenceLabel(double PreferA, double Margin, bool OrdersDisagreed);
