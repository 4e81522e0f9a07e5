using System.Text;
using Morlaif.Learning.HuggingFace.Tokenization;
using NativeTokenizer = Tokenizers.DotNet.Tokenizer;

namespace Morlaif.Learning.Tests.HuggingFace.Tokenization;

/// <summary>Each layout encodes as the independent reference BPE does, and decodes back to the text.</summary>
public class EncodingTests
{
    public static readonly string[] Texts =
    [
        "Hello world! It's the café's über-test: 123 4567 89.",
        "We'll see; they're sure I'd've DONE it, THEY'RE and YOU'LL too.",
        "中文测试 and emoji 🙂🚀👩‍👩‍👧 here, 🙂 again",
        "  leading spaces,\ttabs\nnewlines\r\n\n  and trailing   ",
        "Zürich 2024 — naïve façade ½ ∑ Straße Ångström 3.14159",
        "the the the quick brown fox, the brownfox",
        "tested herself, bored", // pieces whose merges compete: a wrong merge order shows here
        "x",
        "",
    ];

    public static TheoryData<string> Kinds => [.. TokenizerFolder.Kinds];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Encodes_as_the_reference_bpe(string kind)
    {
        using var folder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        // Decomposed accents too (Qwen2's NFC normalizer composes them; the others keep the combining marks).
        string[] texts = [.. Texts, "cafe\u0301 u\u0308ber Zu\u0308rich"];
        var expected = folder.ReferenceIds(texts);
        for (var i = 0; i < texts.Length; i++)
            Assert.True(expected[i].SequenceEqual(tokenizer.Encode(texts[i], addSpecialTokens: false)),
                $"{kind}: '{texts[i]}'\nreference {string.Join(',', expected[i])}\nours      {string.Join(',', tokenizer.Encode(texts[i], addSpecialTokens: false))}");
        // The learned merges are used, not just bytes: a text is shorter in tokens than in UTF-8 bytes.
        Assert.True(tokenizer.Encode(Texts[0], false).Length < Encoding.UTF8.GetByteCount(Texts[0]) / 2);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Decoding_an_encoding_gives_the_text_back(string kind)
    {
        using var tokenizerFolder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(tokenizerFolder.Dir);
        foreach (var text in Texts)
        {
            // As in Hugging Face: Metaspace does not add a U+2581 before a leading space, and the decoder's Strip
            // then takes one space off.
            var expected = kind == "sentencepiece-metaspace" && text.StartsWith(' ') ? text[1..] : text;
            Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
            // Special tokens (BOS) are left out of the text.
            Assert.Equal(expected, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Fact]
    public void Vocab_and_merges_encode_as_the_same_vocabulary_in_tokenizer_json()
    {
        using var jsonFolder = TokenizerFolder.Create("gpt2-json");
        using var json = PreTrainedTokenizer.FromPretrained(jsonFolder.Dir);
        using var oldFolder = TokenizerFolder.Create("gpt2-vocab-merges");
        using var old = PreTrainedTokenizer.FromPretrained(oldFolder.Dir);
        Assert.Equal("tokenizer.json", json.Source);
        Assert.Equal("vocab.json + merges.txt", old.Source);
        foreach (var text in Texts)
            Assert.Equal(json.Encode(text), old.Encode(text));
    }

    [Theory]
    [InlineData("gpt2-json", "<|endoftext|>")]
    [InlineData("gpt2-vocab-merges", "<|endoftext|>")]
    [InlineData("llama3", "<|eot_id|>")]
    [InlineData("qwen2", "<|im_end|>")]
    public void Special_tokens_in_the_text_are_one_token_each(string kind, string special)
    {
        using var folder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        var text = $"Hello{special} world{special}{special}it's";
        var ids = tokenizer.Encode(text, addSpecialTokens: false);
        Assert.Equal(folder.ReferenceIds([text])[0], ids);
        Assert.Equal(3, ids.Count(id => id == folder.Specials[special]));
        Assert.Equal(folder.Specials[special], tokenizer.TokenToId(special));
        Assert.Equal(special, tokenizer.IdToToken(folder.Specials[special]));
    }

    [Fact]
    public void Truncation_and_padding_saved_in_tokenizer_json_do_not_cut_or_pad_texts()
    {
        using var folder = TokenizerFolder.Create("gpt2-json");
        var path = folder.TokenizerJsonPath;
        using var before = PreTrainedTokenizer.FromPretrained(folder.Dir);
        var text = Texts[0];
        var expected = before.Encode(text);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"truncation\":null,\"padding\":null",
            "\"truncation\":{\"direction\":\"Right\",\"max_length\":3,\"strategy\":\"LongestFirst\",\"stride\":0}," +
            "\"padding\":{\"strategy\":{\"Fixed\":64},\"direction\":\"Right\",\"pad_to_multiple_of\":null,\"pad_id\":0,\"pad_type_id\":0,\"pad_token\":\"!\"}"));
        using var native = new NativeTokenizer(path);
        Assert.Equal(64, native.Encode(text).Length); // what the file alone does
        using var after = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal(expected, after.Encode(text));
    }

    [Fact]
    public void Qwen2_normalizes_to_nfc_first()
    {
        using var tokenizerFolder = TokenizerFolder.Create("qwen2");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(tokenizerFolder.Dir);
        var composed = "caf\u00e9 \u00fcber";
        Assert.Equal(tokenizer.Encode(composed), tokenizer.Encode(composed.Normalize(NormalizationForm.FormD)));
    }

    /// <summary>
    /// What this project adds around a text (read from the post-processor and tokenizer_config.json) is what Hugging
    /// Face's own library adds when it applies the original file's post-processor.
    /// </summary>
    [Theory]
    [InlineData("gpt2-json")]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    [InlineData("sentencepiece")]
    [InlineData("sentencepiece-metaspace")]
    public void Special_tokens_added_are_those_the_native_post_processor_adds(string kind)
    {
        using var folder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        using var native = new NativeTokenizer(folder.TokenizerJsonPath);
        foreach (var text in Texts)
            Assert.Equal(native.Encode(text).Select(id => (int)id), tokenizer.Encode(text));
    }
}
