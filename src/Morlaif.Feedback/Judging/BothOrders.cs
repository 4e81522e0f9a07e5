namespace Morlaif.Feedback.Judging;

/// <summary>A pair's label for one principle, from the judge asked in both orders.</summary>
public sealed record PairLabel(double PreferA, double Margin, bool OrdersDisagreed, Provenance Provenance);

/// <summary>
/// Asks every question in both orders, which cancels the judge's position bias. The rule (the same the
/// synthetic judge follows): if both orders prefer the same response, a hard label with the mean of the
/// two margins; if they disagree, a tie (preference 0.5, margin 0), since neither order can be trusted.
/// </summary>
public static class BothOrders
{
    public static PairLabel Combine(JudgeAnswer asked, JudgeAnswer swapped)
    {
        var provenance = asked.Provenance == Provenance.LogProbs && swapped.Provenance == Provenance.LogProbs ? Provenance.LogProbs : Provenance.ParsedAnswer;
        var firstSaysA = asked.PrefersA;
        var secondSaysA = !swapped.PrefersA; // in the swapped question, our A is shown as option B
        return firstSaysA == secondSaysA
            ? new PairLabel(firstSaysA ? 1 : 0, (asked.Margin + swapped.Margin) / 2, false, provenance)
            : new PairLabel(0.5, 0, true, provenance);
    }

    public static async Task<PairLabel> LabelAsync(ChatJudge judge, JudgeQuestion question, CancellationToken cancel = default)
    {
        var asked = judge.AskAsync(question, cancel);
        var swapped = judge.AskAsync(question.Swapped(), cancel);
        return Combine(await asked, await swapped);
    }
}
