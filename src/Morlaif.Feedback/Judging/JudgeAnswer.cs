namespace Morlaif.Feedback.Judging;

/// <summary>How a judge's answer was read.</summary>
public enum Provenance
{
    /// <summary>From the log-probabilities of "A" and "B" among the top 5 (a missing one counts as -10).</summary>
    LogProbs,
    /// <summary>The endpoint gave no log-probabilities; the answer text was parsed and a unit margin recorded.</summary>
    ParsedAnswer,
}

/// <summary>The judge's answer to one question in one order: log-probabilities of "A" and "B".</summary>
public sealed record JudgeAnswer(double LogProbA, double LogProbB, Provenance Provenance)
{
    public const double MissingLogProb = -10;

    public bool PrefersA => LogProbA >= LogProbB;
    public double Margin => Math.Abs(LogProbA - LogProbB);
}

/// <summary>A question the judge could not answer usably after the retries: recorded, never silently dropped.</summary>
public sealed class JudgeAbstention(string reason) : Exception(reason);
