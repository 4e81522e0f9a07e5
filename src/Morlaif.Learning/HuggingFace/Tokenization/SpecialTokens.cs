using System.Text.Json;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// The special token ids of a checkpoint folder and whether add_bos_token / add_eos_token are set.
/// Sources, in Hugging Face's order: tokenizer_config.json (bos_token, eos_token, pad_token, unk_token: a string or
/// an AddedToken object {"content": ...}), then special_tokens_map.json for what it leaves unset, then
/// config.json's bos_token_id / eos_token_id / pad_token_id (the model's side: Qwen2 sets no bos_token but its
/// config names one; Llama 3.1 lists several eos ids, all of which end generation).
/// </summary>
internal sealed record SpecialTokens(int? BosId, int? EosId, int? PadId, int? UnkId, IReadOnlyList<int> StopIds, bool? AddBosToken, bool? AddEosToken)
{
    public const string TokenizerConfig = "tokenizer_config.json";
    public const string SpecialTokensMap = "special_tokens_map.json";
    public const string ModelConfig = "config.json";

    /// <param name="tokenToId">The tokenizer's vocabulary, added tokens included.</param>
    /// <param name="vocabularyFile">Named in the error when a special token is not in the vocabulary.</param>
    public static SpecialTokens Read(string folder, Func<string, int?> tokenToId, string vocabularyFile)
    {
        var tokenizerConfig = TokenizerFiles.ReadObject(folder, TokenizerConfig);
        var map = TokenizerFiles.ReadObject(folder, SpecialTokensMap);
        var config = TokenizerFiles.ReadObject(folder, ModelConfig);

        int? Resolve(string field)
        {
            foreach (var (file, obj) in new[] { (TokenizerConfig, tokenizerConfig), (SpecialTokensMap, map) })
            {
                if (obj is not { } o || Content(folder, file, o, field) is not { } token)
                    continue;
                return tokenToId(token) ?? throw TokenizerFiles.Error(folder, file, $"{field} '{token}' is not in the tokenizer's vocabulary ({vocabularyFile})");
            }
            return config is { } c && Ids(folder, c, field + "_id") is [var first, ..] ? first : null;
        }

        var bos = Resolve("bos_token");
        var eos = Resolve("eos_token");
        var unk = Resolve("unk_token");
        // No pad token is common (GPT-2, Llama 3): padding then uses eos, as Hugging Face's generate does when
        // pad_token_id is unset and as fine-tuning recipes do with tokenizer.pad_token = tokenizer.eos_token.
        // Padded positions are masked out, so which id fills them does not change any result.
        var pad = Resolve("pad_token") ?? eos;
        List<int> stops = eos is { } e ? [e] : [];
        if (config is { } cfg)
            stops.AddRange(Ids(folder, cfg, "eos_token_id").Where(id => !stops.Contains(id)));
        return new(bos, eos, pad, unk, stops,
            Flag(folder, tokenizerConfig, "add_bos_token"), Flag(folder, tokenizerConfig, "add_eos_token"));
    }

    /// <summary>The token string of a special token field: a string, an AddedToken object, or null.</summary>
    public static string? Content(string folder, string file, JsonElement obj, string field)
    {
        if (obj.Get(field) is not { } value)
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.Get("content") is { ValueKind: JsonValueKind.String } c => c.GetString(),
            _ => throw TokenizerFiles.Error(folder, file, $"{field} must be a string, an object with a \"content\" string, or null"),
        };
    }

    /// <summary>config.json's *_token_id: an integer, a list of integers, or null.</summary>
    public static List<int> Ids(string folder, JsonElement config, string field)
    {
        if (config.Get(field) is not { } value)
            return [];
        if (value.TryGetId(out var id))
            return [id];
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.TryGetId(out _)))
            return [.. value.EnumerateArray().Select(v => v.GetInt32())];
        throw TokenizerFiles.Error(folder, ModelConfig, $"{field} must be a non-negative integer, a list of them, or null");
    }

    private static bool? Flag(string folder, JsonElement? obj, string field) =>
        obj?.Get(field) switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => throw TokenizerFiles.Error(folder, TokenizerConfig, $"{field} must be true or false"),
        };
}
