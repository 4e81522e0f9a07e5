using System.Text.Json;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// Token strings and ids both ways: the model's vocabulary plus the added tokens. The native library does not
/// expose token_to_id, and special tokens are named by string in tokenizer_config.json, so this is read here.
/// </summary>
internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _tokens = [];

    public int Size => _tokens.Count == 0 ? 0 : _tokens.Keys.Max() + 1;

    public int? Id(string token) => _ids.TryGetValue(token, out var id) ? id : null;

    public string? Token(int id) => _tokens.GetValueOrDefault(id);

    private readonly Dictionary<string, int> _added = new(StringComparer.Ordinal);

    /// <summary>The added tokens (special tokens among them): content -> id.</summary>
    public IReadOnlyDictionary<string, int> Added => _added;

    public void AddToken(string token, int id)
    {
        Add(token, id);
        _added[token] = id;
    }

    public void Add(string token, int id)
    {
        _ids[token] = id;
        _tokens[id] = token;
    }

    /// <summary>
    /// model.vocab of tokenizer.json or vocab.json: {"token": id} (BPE, WordPiece, WordLevel) or, for Unigram,
    /// [["piece", score], ...] where the position is the id.
    /// </summary>
    public static Vocabulary FromModelVocab(JsonElement vocab, Func<string, Exception> fail)
    {
        var result = new Vocabulary();
        if (vocab.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in vocab.EnumerateObject())
                result.Add(entry.Name, entry.Value.TryGetId(out var id) ? id : throw fail($"vocab['{entry.Name}'] must be a non-negative integer id"));
        }
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var entry in vocab.EnumerateArray())
            {
                result.Add(entry is { ValueKind: JsonValueKind.Array } pair && pair.GetArrayLength() > 0 && pair[0].ValueKind == JsonValueKind.String
                    ? pair[0].GetString()!
                    : throw fail($"vocab[{index}] must be [piece, score]"), index);
                index++;
            }
        }
        else
            throw fail("vocab must be an object of token ids or a list of [piece, score]");
        return result;
    }
}
