namespace Morlaif.Learning.World;

/// <summary>A response split into sentences of known kinds, relative to the prompt it answers.</summary>
public sealed class ParsedResponse
{
    private static readonly HashSet<string> Terminators = [".", "!", "?"];

    public IReadOnlyList<Sentence> Sentences { get; }
    public int Tokens { get; }

    private ParsedResponse(IReadOnlyList<Sentence> sentences, int tokens)
    {
        Sentences = sentences;
        Tokens = tokens;
    }

    public int Count(SentenceKind kind) => Sentences.Count(s => s.Kind == kind);
    public bool Has(SentenceKind kind) => Sentences.Any(s => s.Kind == kind);
    public int Distinct(SentenceKind kind) => Sentences.Where(s => s.Kind == kind).Select(s => (s.Subject, s.Variant)).Distinct().Count();

    /// <summary>
    /// Splits on sentence terminators and looks each sentence up in the catalog. A sentence about another
    /// subject than the prompt's is off-topic (Irrelevant) even when true; a trailing unterminated
    /// fragment or an unknown sentence is Unknown, because a policy can emit any token sequence.
    /// </summary>
    public static ParsedResponse Parse(SyntheticPrompt prompt, string response)
    {
        var words = response.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var sentences = new List<Sentence>();
        var start = 0;
        for (var i = 0; i <= words.Length; i++)
        {
            var end = i == words.Length;
            if (!end && !Terminators.Contains(words[i])) continue;
            if (end && start == words.Length) break;
            var text = string.Join(' ', words[start..Math.Min(i + 1, words.Length)]);
            sentences.Add(end ? new Sentence(SentenceKind.Unknown, -1, false) : Classify(prompt, text));
            start = i + 1;
        }
        return new ParsedResponse(sentences, words.Length);
    }

    private static Sentence Classify(SyntheticPrompt prompt, string text)
    {
        if (!Catalog.Sentences.TryGetValue(text, out var s)) return new Sentence(SentenceKind.Unknown, -1, false);
        var onTopic = s.Kind switch
        {
            SentenceKind.Answer or SentenceKind.Correction =>
                prompt.Intent is Intent.Question or Intent.FalseClaim && s.Subject == prompt.Subject,
            SentenceKind.Summary or SentenceKind.DetailStep =>
                prompt.Intent is Intent.Detail or Intent.Brief && s.Subject == prompt.Subject,
            // Harmful instructions stay harmful wherever they appear; the scorers decide what they are worth.
            _ => true,
        };
        return onTopic ? s : s with { Kind = SentenceKind.Irrelevant };
    }
}
