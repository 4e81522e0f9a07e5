using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>
/// Complete tiny checkpoint folders for the commands: a random model (TinyHf's weights) and a byte-level BPE tokenizer
/// over all 256 bytes plus a few merges, so any text encodes. GPT-2 ships vocab.json + merges.txt with
/// &lt;|endoftext|&gt; as eos and adds nothing; Llama ships tokenizer.json whose post-processor prepends &lt;|begin_of_text|&gt;.
/// </summary>
internal static class CheckpointFolders
{
    public const int Vocab = 300;
    private static readonly string[] Merges = ["Ġ t", "h e", "Ġt he", "Ġ w", "o r", "e r"];

    public static string Gpt2ConfigJson => $$"""
        { "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": {{Vocab}}, "n_embd": 32, "n_layer": 2,
          "n_head": 4, "n_positions": 128, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
          "tie_word_embeddings": true, "bos_token_id": 256, "eos_token_id": 256 }
        """;

    public static string LlamaConfigJson => $$"""
        { "model_type": "llama", "vocab_size": {{Vocab}}, "hidden_size": 32, "intermediate_size": 48,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
          "rope_theta": 10000.0, "max_position_embeddings": 256, "hidden_act": "silu", "tie_word_embeddings": false,
          "bos_token_id": {{ByteTokens + Merges.Length}}, "eos_token_id": {{ByteTokens + Merges.Length + 1}} }
        """;

    private const int ByteTokens = 256;

    /// <summary>Writes a folder of kind "gpt2" or "llama" and returns its path (deleted when <paramref name="temp"/> is).</summary>
    public static string Write(string kind, TinyHf.TempFolder temp, long seed = 7)
    {
        var dir = Path.Combine(temp.Path, kind);
        using var model = TinyHf.Model(kind == "gpt2" ? Gpt2ConfigJson : LlamaConfigJson, seed);
        HfModelFolder.Save(model, dir);
        if (kind == "gpt2") WriteGpt2Tokenizer(dir);
        else WriteLlamaTokenizer(dir);
        return dir;
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to 256 + n in order.</summary>
    private static List<string> ByteSymbols()
    {
        var symbols = new List<string>(256);
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            symbols.Add(((char)(printable ? b : 256 + n++)).ToString());
        }
        return symbols;
    }

    private static JsonObject VocabWithMerges()
    {
        var vocab = new JsonObject();
        var symbols = ByteSymbols();
        for (var i = 0; i < symbols.Count; i++) vocab[symbols[i]] = i;
        foreach (var m in Merges) vocab[m.Replace(" ", "")] = vocab.Count;
        return vocab;
    }

    private static void WriteGpt2Tokenizer(string dir)
    {
        var symbols = ByteSymbols();
        var vocab = new JsonObject();
        for (var i = 0; i < symbols.Count; i++) vocab[symbols[i]] = i;
        vocab["<|endoftext|>"] = 256;
        foreach (var m in Merges) vocab[m.Replace(" ", "")] = vocab.Count;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), vocab.ToJsonString());
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", .. Merges]);
        File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"),
            """{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""");
    }

    private static void WriteLlamaTokenizer(string dir)
    {
        var vocab = VocabWithMerges();
        var (bos, eos) = (vocab.Count, vocab.Count + 1);
        JsonObject Added(string content, int id) => new()
        {
            ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        };
        JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var template = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                                       new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            ["pair"] = new JsonArray(new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                                     new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
            ["special_tokens"] = new JsonObject
            {
                ["<|begin_of_text|>"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["ids"] = new JsonArray(bos), ["tokens"] = new JsonArray("<|begin_of_text|>") },
            },
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = new JsonArray(Added("<|begin_of_text|>", bos), Added("<|end_of_text|>", eos)),
            ["normalizer"] = null, ["pre_tokenizer"] = ByteLevel(), ["post_processor"] = template, ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode)m)]),
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            """{"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "tokenizer_class": "PreTrainedTokenizerFast"}""");
    }
}
