using System.Text.Json;
using System.Text.Json.Nodes;

namespace Morlaif.Learning.Tests.HuggingFace.Tokenization;

/// <summary>
/// Tiny checkpoint tokenizer folders in the layouts real checkpoints ship, written from the reference's learned
/// vocabularies: GPT-2 (tokenizer.json, or vocab.json + merges.txt), Llama 3, Qwen2, and SentencePiece-derived BPE
/// (Llama 2 / TinyLlama). Each kind knows how to ask the reference for the same encoding.
/// </summary>
internal sealed class TokenizerFolder : IDisposable
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly string[] Kinds = ["gpt2-json", "gpt2-vocab-merges", "llama3", "qwen2", "sentencepiece", "sentencepiece-metaspace"];

    public string Dir { get; }
    public string Kind { get; }
    /// <summary>The added tokens: content -> id.</summary>
    public Dictionary<string, int> Specials { get; } = [];
    private readonly string _vocabDir;

    private TokenizerFolder(string kind)
    {
        Kind = kind;
        Dir = Directory.CreateTempSubdirectory($"morlaif-tok-{kind}-").FullName;
        _vocabDir = kind.StartsWith("sentencepiece") ? ReferenceBpe.SentencePieceDir : ReferenceBpe.ByteLevelDir;
    }

    /// <summary>Tokens added to the learned vocabulary that no merge leads to.</summary>
    public Dictionary<string, int> ExtraVocab { get; } = [];

    private static readonly List<string> Created = [];

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    /// <summary>A temporary folder, deleted when the test process ends.</summary>
    public static string TempDir(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        lock (Created)
        {
            if (Created.Count == 0)
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    lock (Created)
                        foreach (var d in Created)
                            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
                };
            Created.Add(dir);
        }
        return dir;
    }

    public Dictionary<string, int> Vocab
    {
        get
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(_vocabDir, "vocab.json")))!;
            foreach (var (token, id) in ExtraVocab)
                vocab[token] = id;
            return vocab;
        }
    }

    private string[] MergeLines => [.. File.ReadAllLines(Path.Combine(_vocabDir, "merges.txt")).Where(l => l.Length > 0 && !l.StartsWith("#version"))];

    public static TokenizerFolder Create(string kind)
    {
        var f = new TokenizerFolder(kind);
        switch (kind)
        {
            case "gpt2-json": f.WriteGpt2Json(); break;
            case "gpt2-vocab-merges": f.WriteGpt2VocabMerges(); break;
            case "llama3": f.WriteLlama3(); break;
            case "qwen2": f.WriteQwen2(); break;
            case "sentencepiece": f.WriteSentencePiece(metaspace: false); break;
            case "sentencepiece-metaspace": f.WriteSentencePiece(metaspace: true); break;
            default: throw new ArgumentException(kind);
        }
        return f;
    }

    public string TokenizerJsonPath => Path.Combine(Dir, "tokenizer.json");

    public void WriteJson(string file, object content) => File.WriteAllText(Path.Combine(Dir, file), JsonSerializer.Serialize(content));

    /// <summary>The reference's ids of the texts without special tokens (the bare encoding).</summary>
    public int[][] ReferenceIds(IEnumerable<string> texts) => ReferenceBpe.Encode(new Dictionary<string, object>
    {
        ["kind"] = Kind.StartsWith("sentencepiece") ? Kind : "bytelevel",
        ["vocab"] = Path.Combine(_vocabDir, "vocab.json"),
        ["merges"] = Path.Combine(_vocabDir, "merges.txt"),
        ["pattern"] = Kind switch { "llama3" => "llama3", "qwen2" => "qwen2", _ => "gpt2" },
        ["ignore_merges"] = Kind == "llama3",
        ["nfc"] = Kind == "qwen2",
        ["extra_vocab"] = ExtraVocab,
        ["specials"] = Specials,
        ["texts"] = texts.ToArray(),
    });

    private int AddSpecial(string content)
    {
        var id = Vocab.Count + Specials.Count;
        Specials[content] = id;
        return id;
    }

    private JsonArray AddedTokens() =>
        [.. Specials.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Value, ["content"] = s.Key, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
            ["normalized"] = false, ["special"] = true,
        })];

    private static JsonObject ByteLevel(bool useRegex = true) =>
        new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = useRegex };

    private JsonObject Bpe(bool ignoreMerges = false, bool mergesAsPairs = false, bool sentencePiece = false)
    {
        var vocab = new JsonObject();
        foreach (var (token, id) in Vocab)
            vocab[token] = id;
        var merges = new JsonArray([.. MergeLines.Select(l => mergesAsPairs ? (JsonNode)new JsonArray([.. l.Split(' ').Select(p => (JsonNode)p)]) : l)]);
        return new()
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = sentencePiece ? "<unk>" : null,
            ["continuing_subword_prefix"] = sentencePiece ? null : "", ["end_of_word_suffix"] = sentencePiece ? null : "",
            ["fuse_unk"] = sentencePiece, ["byte_fallback"] = sentencePiece, ["ignore_merges"] = ignoreMerges,
            ["vocab"] = vocab, ["merges"] = merges,
        };
    }

    private void WriteTokenizerJson(JsonNode? normalizer, JsonNode? preTokenizer, JsonNode? postProcessor, JsonNode decoder, JsonObject model) =>
        File.WriteAllText(TokenizerJsonPath, new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = AddedTokens(),
            ["normalizer"] = normalizer, ["pre_tokenizer"] = preTokenizer, ["post_processor"] = postProcessor,
            ["decoder"] = decoder, ["model"] = model,
        }.ToJsonString());

    private static JsonObject Template(string token, int id) => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } },
                                   new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } },
                                 new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                                 new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 1 } },
                                 new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
        ["special_tokens"] = new JsonObject { [token] = new JsonObject { ["id"] = token, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(token) } },
    };

    // GPT-2 as the Hub ships it: ByteLevel everything, <|endoftext|> as bos/eos/unk, nothing added when encoding.
    private void WriteGpt2Json()
    {
        var eot = AddSpecial("<|endoftext|>");
        WriteTokenizerJson(null, ByteLevel(), ByteLevel(), ByteLevel(), Bpe());
        WriteJson("tokenizer_config.json", new { bos_token = "<|endoftext|>", eos_token = "<|endoftext|>", unk_token = "<|endoftext|>", model_max_length = 1024 });
        WriteJson("config.json", new { model_type = "gpt2", bos_token_id = eot, eos_token_id = eot });
    }

    // The older layout: vocab.json (here with <|endoftext|> in it, as GPT-2's) + merges.txt.
    private void WriteGpt2VocabMerges()
    {
        var vocab = Vocab;
        var eot = AddSpecial("<|endoftext|>");
        vocab["<|endoftext|>"] = eot;
        WriteJson("vocab.json", vocab);
        File.Copy(Path.Combine(_vocabDir, "merges.txt"), Path.Combine(Dir, "merges.txt"));
        WriteJson("special_tokens_map.json", new { bos_token = "<|endoftext|>", eos_token = "<|endoftext|>", unk_token = "<|endoftext|>" });
    }

    // Llama 3.1/3.2: Split(regex) + ByteLevel without its regex, ignore_merges, <|begin_of_text|> by TemplateProcessing
    // inside a Sequence post-processor, several eos ids in config.json.
    private void WriteLlama3()
    {
        // " brownfox" is one token only because ignore_merges looks the whole piece up first.
        ExtraVocab["Ġbrownfox"] = Vocab.Count;
        var bos = AddSpecial("<|begin_of_text|>");
        var eos = AddSpecial("<|end_of_text|>");
        var eot = AddSpecial("<|eot_id|>");
        var split = new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false };
        WriteTokenizerJson(null,
            new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(split, ByteLevel(useRegex: false)) },
            new JsonObject { ["type"] = "Sequence", ["processors"] = new JsonArray(ByteLevel(), Template("<|begin_of_text|>", bos)) },
            ByteLevel(), Bpe(ignoreMerges: true, mergesAsPairs: true));
        WriteJson("tokenizer_config.json", new
        {
            bos_token = "<|begin_of_text|>",
            eos_token = new { content = "<|eot_id|>", lstrip = false, normalized = false, rstrip = false, single_word = false },
            tokenizer_class = "PreTrainedTokenizerFast",
        });
        WriteJson("config.json", new { model_type = "llama", bos_token_id = bos, eos_token_id = new[] { eos, eot } });
    }

    // Qwen2: NFC normalizer, one digit per piece, no bos_token (config.json names one), nothing added.
    private void WriteQwen2()
    {
        var eot = AddSpecial("<|endoftext|>");
        AddSpecial("<|im_start|>");
        var imEnd = AddSpecial("<|im_end|>");
        var split = new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Qwen2Pattern }, ["behavior"] = "Isolated", ["invert"] = false };
        WriteTokenizerJson(new JsonObject { ["type"] = "NFC" },
            new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(split, ByteLevel(useRegex: false)) },
            ByteLevel(), ByteLevel(), Bpe(mergesAsPairs: true));
        File.WriteAllText(Path.Combine(Dir, "tokenizer_config.json"),
            """{"bos_token": null, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_prefix_space": false}""");
        WriteJson("config.json", new { model_type = "qwen2", bos_token_id = eot, eos_token_id = imEnd });
    }

    // TinyLlama / Llama 2 converted from SentencePiece: Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer,
    // byte fallback, <s> prepended by TemplateProcessing, decoder undoing ▁ and the bytes. Files saved by recent
    // transformers (legacy=False) put a Metaspace pre-tokenizer (prepend_scheme "first") there instead.
    private void WriteSentencePiece(bool metaspace)
    {
        var vocab = Vocab;
        foreach (var s in new[] { "<unk>", "<s>", "</s>" })
            Specials[s] = vocab[s];
        static JsonObject Replace(string from, string to) => new() { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = from }, ["content"] = to };
        WriteTokenizerJson(
            metaspace ? null : new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" }, Replace(" ", "▁")) },
            metaspace ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false } : null,
            Template("<s>", vocab["<s>"]),
            new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(Replace("▁", " "), new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            Bpe(sentencePiece: true));
        WriteJson("tokenizer_config.json", new { bos_token = "<s>", eos_token = "</s>", unk_token = "<unk>", add_bos_token = true, add_eos_token = false, tokenizer_class = "LlamaTokenizer" });
    }
}
