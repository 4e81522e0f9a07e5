using System.Text.Encodings.Web;
using System.Text.Json;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// What this project reads itself from a tokenizer.json; the encoding itself is Hugging Face's (see
/// <see cref="PreTrainedTokenizer"/>): the vocabulary with the added tokens, and the post-processor's template.
/// </summary>
internal static class TokenizerJson
{
    public const string File = "tokenizer.json";

    public static (Vocabulary Vocabulary, PostProcessorTemplate Template) Read(string folder, JsonElement root)
    {
        Exception Fail(string message) => TokenizerFiles.Error(folder, File, message);
        if (root.Get("model")?.Get("vocab") is not { } vocab)
            throw Fail("model.vocab is missing");
        var vocabulary = Vocabulary.FromModelVocab(vocab, m => Fail("model." + m));
        if (root.Get("added_tokens") is { } added)
        {
            if (added.ValueKind != JsonValueKind.Array)
                throw Fail("added_tokens must be a list");
            var i = 0;
            foreach (var token in added.EnumerateArray())
            {
                if (token.Get("content") is not { ValueKind: JsonValueKind.String } content || token.Get("id") is not { } id || !id.TryGetId(out var value))
                    throw Fail($"added_tokens[{i}] must have a content string and a non-negative id");
                vocabulary.AddToken(content.GetString()!, value);
                i++;
            }
        }
        return (vocabulary, PostProcessorTemplate.From(root.Get("post_processor"), Fail));
    }

    /// <summary>
    /// Writes the document with post_processor set to null: the native library always encodes with
    /// add_special_tokens=True, so this copy gives the bare encoding, and the template read above is added on top
    /// when asked for (one place decides BOS/EOS, add_bos_token included). truncation and padding are set to null
    /// too: some checkpoints save them, and transformers turns them off unless a call asks for them, where the
    /// native library would silently cut or pad every text.
    /// </summary>
    public static void WriteWithoutPostProcessor(JsonElement root, string path)
    {
        using var stream = System.IO.File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("post_processor") || property.NameEquals("truncation") || property.NameEquals("padding"))
                writer.WriteNull(property.Name);
            else
                property.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
