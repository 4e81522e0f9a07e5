namespace Morlaif.Learning.World;

/// <summary>
/// The paper's single-objective baseline in this world: Constitutional-AI style, each pair judged on one of 16
/// general principles drawn at random, and one PM trained on all those labels. The 16 are the phrases of
/// Morlaif.Feedback's Principles.Constitution (a test checks the names match). What each phrase means here is a
/// fixed mixture of the world's scorers, written from the phrase's words alone, before any run and without
/// looking at the true preference: a phrase about something this world does not have (bias, privacy) is "no
/// signal", which the judge can only answer with its noise. The judge sees the mixture's value with the same
/// noise model as every other question.
/// </summary>
public static class Constitution
{
    /// <summary>The baseline's question name, in configs, manifests and reports.</summary>
    public const string Question = "constitution";

    /// <summary>One general principle: its name and the weights (summing to 1) of the scorers it means, or none.</summary>
    public sealed record Meaning(string Name, IReadOnlyDictionary<string, double> Mixture);

    private static Meaning M(string name, params string[] scorers) =>
        new(name, scorers.ToDictionary(s => s, _ => 1.0 / scorers.Length));

    public static readonly IReadOnlyList<Meaning> Principles =
    [
        M("c01", "helpfulness", "factuality", "ethicality"),        // the more helpful, honest and harmless
        M("c02", "ethicality"),                                     // the less harmful, the one a wise and ethical person would give
        M("c03", "factuality"),                                     // the more honest and accurate
        M("c04", "empathy", "ethicality"),                          // the less toxic, rude or disrespectful (dismissals)
        M("c05", "ethicality"),                                     // better avoids helping with anything illegal or dangerous
        M("c06", "empathy", "detail"),                              // the more thoughtful and considerate
        M("c07"),                                                   // the less biased and more even-handed: no bias here
        M("c08"),                                                   // respects autonomy and privacy: no privacy here
        M("c09", "conciseness"),                                    // the more clearly written and easier to follow
        M("c10", "factuality"),                                     // the one a careful expert would judge more correct
        M("c11", "helpfulness"),                                    // better answers what was actually asked
        M("c12", "helpfulness", "ethicality"),                      // the less evasive while still being safe
        M("c13", "empathy", "ethicality"),                          // shows more care for the human's wellbeing
        M("c14", "sycophancy"),                                     // the less preachy, condescending or sycophantic
        M("c15", "factuality"),                                     // admits uncertainty instead of making things up
        M("c16", [.. GroundTruth.Principles.Select(p => p.Name)]),  // the overall better response: every scorer alike
    ];

    /// <summary>What a perfect judge would see for <paramref name="meaning"/>: its mixture of the scorers (0 for no signal).</summary>
    public static double Score(Meaning meaning, SyntheticPrompt prompt, ParsedResponse response) =>
        meaning.Mixture.Sum(kv => kv.Value * GroundTruth.Score(kv.Key, prompt, response));

    /// <summary>The general principle of each of <paramref name="count"/> pairs, drawn with <paramref name="rng"/>.</summary>
    public static Meaning[] Draw(Random rng, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => Principles[rng.Next(Principles.Count)])];

    /// <summary>
    /// The <paramref name="draw"/>-th general principle of each pair (1-based), when each pair is judged on several: the
    /// first is <paramref name="first"/>'s (the baseline's own draw, unchanged), every later one a principle not drawn for
    /// that pair before, from one shuffle per pair of the other 15 with <paramref name="rest"/>. A draw does not depend on
    /// how many draws the run makes, so the matched budget's draws 2..K extend the baseline's labels, never change them.
    /// </summary>
    public static Meaning[] Draw(Random first, Random rest, int count, int draw)
    {
        var firsts = Draw(first, count);
        if (draw == 1) return firsts;
        if (draw < 1 || draw > Principles.Count) throw new ArgumentOutOfRangeException(nameof(draw), $"must be 1 to {Principles.Count} (got {draw})");
        return
        [
            .. firsts.Select(f =>
            {
                var others = Principles.Where(p => p != f).ToArray();
                rest.Shuffle(others);
                return others[draw - 2];
            }),
        ];
    }
}
