using System.Text.Json;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// The special tokens tokenizer.json's <c>post_processor</c> puts around a single sequence when Hugging Face encodes
/// with <c>add_special_tokens=True</c>: the ids before <c>$A</c> and after it. Read from the file rather than
/// assumed per model: GPT-2 and Qwen2 add nothing (ByteLevel), Llama 3 prepends &lt;|begin_of_text|&gt;
/// (TemplateProcessing, inside a Sequence since 3.1), TinyLlama prepends &lt;s&gt;.
/// </summary>
internal sealed record PostProcessorTemplate(int[] Prefix, int[] Suffix)
{
    public static readonly PostProcessorTemplate None = new([], []);

    /// <param name="processor">The post_processor value, or null when the file has none.</param>
    /// <param name="fail">Makes the error for a bad field (the caller knows the folder and file).</param>
    public static PostProcessorTemplate From(JsonElement? processor, Func<string, Exception> fail)
    {
        if (processor is not { } p)
            return None;
        var type = p.Get("type") is { ValueKind: JsonValueKind.String } t ? t.GetString()! : throw fail("post_processor.type is missing");
        switch (type)
        {
            case "ByteLevel":
                // Only adjusts offsets (trim_offsets); adds no token.
                return None;
            case "TemplateProcessing":
                return FromTemplate(p, fail);
            case "RobertaProcessing":
            case "BertProcessing":
                // <s> $A </s> / [CLS] $A [SEP]: each field is [token, id].
                return new([PairId(p, "cls", fail)], [PairId(p, "sep", fail)]);
            case "Sequence":
                // Each processor wraps what the previous one produced.
                var result = None;
                if (p.Get("processors") is not { ValueKind: JsonValueKind.Array } list)
                    throw fail("post_processor.processors must be a list");
                foreach (var inner in list.EnumerateArray())
                {
                    var next = From(inner, fail);
                    result = new([.. next.Prefix, .. result.Prefix], [.. result.Suffix, .. next.Suffix]);
                }
                return result;
            default:
                throw fail($"post_processor.type '{type}' is not supported (supported: ByteLevel, TemplateProcessing, RobertaProcessing, BertProcessing, Sequence)");
        }
    }

    private static PostProcessorTemplate FromTemplate(JsonElement p, Func<string, Exception> fail)
    {
        if (p.Get("single") is not { ValueKind: JsonValueKind.Array } single)
            throw fail("post_processor.single must be a list");
        var specials = p.Get("special_tokens");
        List<int> prefix = [], suffix = [];
        var seenSequence = false;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.Get("Sequence") is not null)
            {
                seenSequence = true;
                continue;
            }
            if (piece.Get("SpecialToken")?.Get("id") is not { ValueKind: JsonValueKind.String } idElement)
                throw fail("post_processor.single: each piece must be a Sequence or a SpecialToken with an id");
            var name = idElement.GetString()!;
            // A special token of the template may stand for several ids; they are listed under special_tokens.
            if (specials?.Get(name)?.Get("ids") is not { ValueKind: JsonValueKind.Array } ids)
                throw fail($"post_processor.special_tokens['{name}'].ids is missing");
            foreach (var id in ids.EnumerateArray())
                (seenSequence ? suffix : prefix).Add(id.TryGetId(out var v) ? v : throw fail($"post_processor.special_tokens['{name}'].ids must be integers"));
        }
        if (!seenSequence)
            throw fail("post_processor.single has no $A sequence");
        return new([.. prefix], [.. suffix]);
    }

    private static int PairId(JsonElement p, string field, Func<string, Exception> fail) =>
        p.Get(field) is { ValueKind: JsonValueKind.Array } pair && pair.GetArrayLength() == 2 && pair[1].TryGetId(out var id)
            ? id
            : throw fail($"post_processor.{field} must be [token, id]");
}
