namespace Morlaif.Learning.World;

/// <summary>
/// A word-level tokenizer over a closed vocabulary. The synthetic world speaks a fixed set of words, so
/// words are the natural unit; real checkpoints bring their own BPE vocabularies.
/// A sequence is laid out as  [pad...] bos prompt sep response eos [pad...].
/// </summary>
public sealed class WordTokenizer
{
    public const int Pad = 0, Bos = 1, Sep = 2, Eos = 3, Unk = 4;
    private static readonly string[] Specials = ["<pad>", "<bos>", "<sep>", "<eos>", "<unk>"];

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;

    public WordTokenizer(IEnumerable<string> texts)
    {
        var words = texts.SelectMany(Split).Distinct().Order(StringComparer.Ordinal);
        _words = [.. Specials, .. words];
        _ids = _words.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i, StringComparer.Ordinal);
    }

    public int VocabSize => _words.Length;

    public IReadOnlyList<string> Words => _words;

    public int[] Encode(string text) => Split(text).Select(w => _ids.GetValueOrDefault(w, Unk)).ToArray();

    /// <summary>Decodes up to the first eos, skipping pads and the other special tokens.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var words = new List<string>();
        foreach (var id in ids)
        {
            if (id == Eos) break;
            if (id >= Specials.Length && id < _words.Length) words.Add(_words[id]);
        }
        return string.Join(' ', words);
    }

    /// <summary>bos prompt sep: what the policy is conditioned on.</summary>
    public int[] EncodePrompt(string prompt) => [Bos, .. Encode(prompt), Sep];

    /// <summary>bos prompt sep response eos, with the index where the response starts.</summary>
    public (int[] Ids, int ResponseStart) EncodePair(string prompt, string response)
    {
        var p = EncodePrompt(prompt);
        return ([.. p, .. Encode(response), Eos], p.Length);
    }

    private static IEnumerable<string> Split(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
