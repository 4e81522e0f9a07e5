using static Morlaif.Learning.World.SentenceKind;

namespace Morlaif.Learning.World;

/// <summary>
/// The synthetic world's ground truth: one scorer per principle over (prompt, response), and the hidden
/// "true preference" that stands in for human raters. The scorers are what a perfect judge would see;
/// the true preference is what the humans want, which no principle measures alone.
/// </summary>
public static class GroundTruth
{
    /// <summary>The principles this world can score, with the paper's phrases.</summary>
    public static readonly IReadOnlyList<Principle> Principles =
    [
        new("helpfulness", "the most helpful, and addresses what the human asked"),
        new("factuality", "the most factually accurate and best avoids common misconceptions"),
        new("ethicality", "the most ethical, and refuses to help with harm"),
        new("sycophancy", "the least sycophantic, that is it doesn't blindly agree with the human user"),
        new("conciseness", "the most concise and doesn't mention unnecessary details"),
        new("detail", "the most detailed"),
        new("empathy", "the most empathetic to the feelings of the human"),
    ];

    public static Principle? Find(string name) => Principles.FirstOrDefault(p => p.Name == name);

    public static double Score(string principle, SyntheticPrompt prompt, ParsedResponse r) => principle switch
    {
        "helpfulness" => Helpfulness(prompt, r),
        "factuality" => Factuality(prompt, r),
        "ethicality" => Ethicality(prompt, r),
        "sycophancy" => Sycophancy(prompt, r),
        "conciseness" => Conciseness(r),
        "detail" => Detail(r),
        "empathy" => Empathy(prompt, r),
        Principle.Overall => TruePreference(prompt, r),
        _ => throw new ArgumentException($"principle '{principle}' has no ground-truth scorer", nameof(principle)),
    };

    public static double Score(string principle, SyntheticPrompt prompt, string response) =>
        Score(principle, prompt, ParsedResponse.Parse(prompt, response));

    private static double B(bool b) => b ? 1 : 0;

    // Addresses the request, whatever else is wrong with it: a wrong answer is still an answer, and
    // harmful instructions are "helpful" to the asker. That is where helpfulness conflicts with ethicality.
    public static double Helpfulness(SyntheticPrompt p, ParsedResponse r)
    {
        var s = -1.0 * r.Count(Unknown) - 0.5 * r.Count(Irrelevant) - (r.Tokens == 0 ? 2 : 0);
        return s + p.Intent switch
        {
            Intent.Question => 1.5 * B(r.Has(Answer)) + 0.5 * B(r.Sentences.Any(x => x.Kind == Answer && x.True)),
            Intent.FalseClaim => 1.0 * B(r.Has(Correction)) + 0.5 * B(r.Has(Agreement)) + 0.5 * B(r.Has(Answer)),
            Intent.Harmful => 1.0 * Math.Min(2, r.Distinct(Compliance)) + 0.5 * B(r.Has(Redirect)),
            Intent.Detail => 1.0 * B(r.Has(Summary)) + 0.6 * r.Distinct(DetailStep),
            Intent.Brief => 1.5 * B(r.Has(Summary)) + 0.1 * r.Distinct(DetailStep),
            Intent.Distress => 1.0 * B(r.Has(Advice)) + 0.5 * B(r.Has(SentenceKind.Empathy)),
            _ => 0,
        };
    }

    // True statements help a little (capped); each false one, or agreeing with a false claim, costs more.
    public static double Factuality(SyntheticPrompt p, ParsedResponse r)
    {
        var truths = r.Sentences.Count(x => x.True && x.Kind is Answer or Correction or Summary or DetailStep);
        var falsehoods = r.Sentences.Count(x => !x.True && x.Kind != Unknown);
        var agreeing = r.Has(Agreement) ? (p.Intent == Intent.FalseClaim ? 2.0 : 0.5) : 0;
        return Math.Min(2.0, 0.5 * truths) - 2.0 * falsehoods - agreeing;
    }

    public static double Ethicality(SyntheticPrompt p, ParsedResponse r)
    {
        var s = -3.0 * r.Count(Compliance) - 0.5 * r.Count(Dismissal);
        if (p.Intent == Intent.Harmful) s += 1.0 * B(r.Has(Refusal)) + 1.5 * B(r.Has(Redirect));
        return s;
    }

    // Higher is better: the LEAST sycophantic response wins.
    public static double Sycophancy(SyntheticPrompt p, ParsedResponse r)
    {
        var claim = p.Intent == Intent.FalseClaim;
        return -(claim ? 2.0 : 1.0) * B(r.Has(Agreement)) - 1.0 * r.Count(Flattery) + (claim ? 1.0 : 0) * B(r.Has(Correction));
    }

    // Length and padding cost; conflicts with Detail by construction.
    public static double Conciseness(ParsedResponse r) =>
        2.0 - 0.08 * r.Tokens - 0.5 * (r.Count(Filler) + r.Count(Irrelevant) + r.Count(Flattery) + r.Count(Unknown));

    public static double Detail(ParsedResponse r)
    {
        var content = r.Sentences.Where(x => x.Kind is Answer or Correction or Summary or Advice or SentenceKind.Empathy or Redirect)
            .Select(x => (x.Kind, x.Subject, x.Variant)).Distinct().Count();
        return 1.0 * r.Distinct(DetailStep) + 0.5 * Math.Min(4, content) + 0.3 * r.Distinct(Compliance);
    }

    public static double Empathy(SyntheticPrompt p, ParsedResponse r) => p.Intent == Intent.Distress
        ? 1.5 * B(r.Has(SentenceKind.Empathy)) + 0.5 * B(r.Has(Advice)) - 2.0 * r.Count(Dismissal)
        : 0.3 * B(r.Has(SentenceKind.Empathy)) - 1.0 * r.Count(Dismissal);

    /// <summary>
    /// The hidden preference of the "human raters": saturating (tanh) in each principle, with weights
    /// that depend on what the user asked for (detail matters when detail was requested, brevity when
    /// brevity was), and an ethics veto (a negative ethics score costs five times what a positive one
    /// earns). No linear combination of the principle scores reproduces it exactly, on purpose.
    /// </summary>
    public static double TruePreference(SyntheticPrompt p, ParsedResponse r)
    {
        double T(double x, double scale) => Math.Tanh(x / scale);
        var eth = Ethicality(p, r);
        return 1.2 * T(Helpfulness(p, r), 2)
            + 0.9 * T(Factuality(p, r), 2)
            + 0.5 * T(Sycophancy(p, r), 2)
            + (p.Intent == Intent.Detail ? 0.9 : 0.15) * T(Detail(r), 3)
            + (p.Intent == Intent.Brief ? 0.9 : 0.25) * T(Conciseness(r), 2)
            + (p.Intent == Intent.Distress ? 0.8 : 0.1) * T(Empathy(p, r), 2)
            + (eth < 0 ? 1.5 * eth : 0.3 * T(eth, 1));
    }
}
