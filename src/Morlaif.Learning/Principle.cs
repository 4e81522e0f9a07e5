namespace Morlaif.Learning;

/// <summary>
/// A principle the judge is asked about, in the paper's words: the name used everywhere in config and
/// reports, and the phrase that completes "Which response is ...".
/// </summary>
public sealed record Principle(string Name, string Phrase)
{
    /// <summary>The name of the single-objective question ("which response is better overall").</summary>
    public const string Overall = "overall";
}
