using System.Text.Encodings.Web;
using System.Text.Json;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// The older GPT-2 layout, vocab.json + merges.txt, turned into the tokenizer.json that Hugging Face's
/// GPT2Converter (convert_slow_tokenizer.py) builds from it: ByteLevel pre-tokenizer (GPT-2's regex), BPE model,
/// ByteLevel decoder, and the special and added tokens of the folder as added tokens, so that one library encodes
/// both layouts the same way.
/// </summary>
internal static class Gpt2Converter
{
    public const string VocabFile = "vocab.json";
    public const string MergesFile = "merges.txt";
    public const string AddedTokensFile = "added_tokens.json";

    private static readonly string[] SpecialFields = ["bos_token", "eos_token", "unk_token", "pad_token"];

    /// <summary>Writes the equivalent tokenizer.json to <paramref name="path"/> and returns its vocabulary.</summary>
    public static Vocabulary Convert(string folder, string path)
    {
        var vocabRoot = TokenizerFiles.ReadObject(folder, VocabFile)!.Value;
        var vocabulary = Vocabulary.FromModelVocab(vocabRoot, m => TokenizerFiles.Error(folder, VocabFile, m));
        var merges = ReadMerges(folder, vocabulary);
        var config = TokenizerFiles.ReadObject(folder, SpecialTokens.TokenizerConfig);
        var added = AddedTokens(folder, config, vocabulary);
        var addPrefixSpace = config?.Get("add_prefix_space") is { ValueKind: JsonValueKind.True };

        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        // Hugging Face's library gives added tokens that are not in the vocabulary the next free ids in the
        // order of this list (the ids written here are only checked): in id order, as transformers saves them.
        foreach (var (content, id) in added.OrderBy(a => a.Id))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        w.WritePropertyName("pre_tokenizer");
        ByteLevel(w, addPrefixSpace);
        w.WriteNull("post_processor");
        w.WritePropertyName("decoder");
        ByteLevel(w, addPrefixSpace);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WritePropertyName("vocab");
        vocabRoot.WriteTo(w);
        w.WriteStartArray("merges");
        foreach (var (a, b) in merges)
        {
            w.WriteStartArray();
            w.WriteStringValue(a);
            w.WriteStringValue(b);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        return vocabulary;
    }

    private static void ByteLevel(Utf8JsonWriter w, bool addPrefixSpace)
    {
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    /// <summary>"a b" per line after the optional "#version" header; both halves and their join must be tokens.</summary>
    private static List<(string, string)> ReadMerges(string folder, Vocabulary vocabulary)
    {
        var merges = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(Path.Combine(folder, MergesFile)))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw TokenizerFiles.Error(folder, MergesFile, $"line {lineNumber}: expected two tokens separated by one space, got '{line}'");
            foreach (var token in new[] { parts[0], parts[1], parts[0] + parts[1] })
                if (vocabulary.Id(token) is null)
                    throw TokenizerFiles.Error(folder, MergesFile, $"line {lineNumber}: '{token}' is not in {VocabFile}");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    /// <summary>
    /// tokenizer_config.json's added_tokens_decoder ({"id": {"content": ...}}), added_tokens.json ({"token": id})
    /// and the special tokens that the vocabulary holds (GPT-2's &lt;|endoftext|&gt;), added to the vocabulary;
    /// like Hugging Face, text that contains one of them encodes it as one token.
    /// </summary>
    private static List<(string Content, int Id)> AddedTokens(string folder, JsonElement? tokenizerConfig, Vocabulary vocabulary)
    {
        var added = new List<(string, int)>();
        if (tokenizerConfig?.Get("added_tokens_decoder") is { ValueKind: JsonValueKind.Object } decoder)
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, out var id) || id < 0 || SpecialTokens.Content(folder, SpecialTokens.TokenizerConfig, decoder, entry.Name) is not { } content)
                    throw TokenizerFiles.Error(folder, SpecialTokens.TokenizerConfig, $"added_tokens_decoder['{entry.Name}'] must map an id to {{\"content\": ...}}");
                added.Add((content, id));
            }
        }
        if (TokenizerFiles.ReadObject(folder, AddedTokensFile) is { } file)
        {
            foreach (var entry in file.EnumerateObject())
                added.Add((entry.Name, entry.Value.TryGetId(out var id) ? id : throw TokenizerFiles.Error(folder, AddedTokensFile, $"'{entry.Name}' must map to a non-negative id")));
        }
        foreach (var (content, id) in added)
            vocabulary.AddToken(content, id);
        void AddSpecial(string token, int id)
        {
            if (!added.Contains((token, id)))
                added.Add((token, id));
        }
        foreach (var source in new[] { SpecialTokens.TokenizerConfig, SpecialTokens.SpecialTokensMap })
        {
            if (TokenizerFiles.ReadObject(folder, source) is not { } obj)
                continue;
            foreach (var field in SpecialFields)
                if (SpecialTokens.Content(folder, source, obj, field) is { } token && vocabulary.Id(token) is { } id)
                    AddSpecial(token, id);
        }
        // GPT-2's own folder names no token strings (GPT2Tokenizer defaults them to <|endoftext|>), only
        // config.json's ids: the tokens at those ids are special too.
        if (TokenizerFiles.ReadObject(folder, SpecialTokens.ModelConfig) is { } config)
            foreach (var field in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
                foreach (var id in SpecialTokens.Ids(folder, config, field))
                    if (vocabulary.Token(id) is { } token)
                        AddSpecial(token, id);
        return added;
    }
}
