using Morlaif.Learning.HuggingFace.Tokenization;

namespace Morlaif.Learning.Tests.HuggingFace.Tokenization;

/// <summary>BOS, EOS and pad ids come from the tokenizer's own files, each source in Hugging Face's order.</summary>
public class SpecialTokenTests
{
    private const string Text = "Hello world, it's 2024!";

    [Theory]
    [InlineData("gpt2-json", false)]
    [InlineData("gpt2-vocab-merges", false)]
    [InlineData("llama3", true)]
    [InlineData("qwen2", false)]
    [InlineData("sentencepiece", true)]
    [InlineData("sentencepiece-metaspace", true)]
    public void Bos_is_prepended_exactly_when_the_files_say_so(string kind, bool addsBos)
    {
        using var tokenizerFolder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(tokenizerFolder.Dir);
        var bare = tokenizer.Encode(Text, addSpecialTokens: false);
        int[] expected = addsBos ? [tokenizer.BosId!.Value, .. bare] : bare;
        Assert.Equal(expected, tokenizer.Encode(Text));
        Assert.Equal(addsBos, tokenizer.AddsBos);
        Assert.Empty(tokenizer.SuffixIds);
    }

    /// <summary>
    /// The PMs learn from sampled sequences, which end with the eos when the policy stopped, and read their score at the
    /// last token: a finished response is encoded that way everywhere (SFT's demonstrations, the human pairs of the weight
    /// fit). Scored without the eos, a text run's conciseness PM of held-out accuracy 1.0 got a negative weight.
    /// </summary>
    [Theory]
    [InlineData("gpt2-vocab-merges")]
    [InlineData("llama3")]
    [InlineData("qwen2")]
    public void A_finished_response_ends_with_the_eos_a_stopped_sample_ends_with_in_every_stage(string kind)
    {
        using var tokenizerFolder = TokenizerFolder.Create(kind);
        using var tokenizer = PreTrainedTokenizer.FromPretrained(tokenizerFolder.Dir);
        const string prompt = "\n\nHuman: Why?\n\nAssistant:", response = " Because.";
        var completed = tokenizer.EncodeCompleted(prompt, response);
        Assert.Equal([.. tokenizer.EncodePrompt(prompt), .. tokenizer.Encode(response, addSpecialTokens: false), tokenizer.EosId!.Value], completed);
        Assert.Contains(completed[^1], tokenizer.StopIds);
        var demonstration = Morlaif.Learning.HuggingFace.HfSftPolicy.Demonstrate(tokenizer, prompt, response, maxLength: 1000)!.Value;
        Assert.Equal(completed, demonstration.Ids);
        Assert.Equal(tokenizer.EncodePrompt(prompt).Length, demonstration.ResponseStart);
    }

    [Fact]
    public void Add_bos_token_false_in_tokenizer_config_removes_the_templates_bos()
    {
        using var folder = TokenizerFolder.Create("llama3");
        Patch(folder, "tokenizer_config.json", """{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "add_bos_token": false}""");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.False(tokenizer.AddsBos);
        Assert.Equal(tokenizer.Encode(Text, false), tokenizer.Encode(Text));
    }

    [Fact]
    public void Add_bos_token_true_prepends_bos_to_a_vocab_and_merges_tokenizer()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        Patch(folder, "tokenizer_config.json", """{"add_bos_token": true}""");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal([folder.Specials["<|endoftext|>"], .. tokenizer.Encode(Text, false)], tokenizer.Encode(Text));
    }

    [Fact]
    public void Add_eos_token_true_appends_eos()
    {
        using var folder = TokenizerFolder.Create("sentencepiece");
        Patch(folder, "tokenizer_config.json", """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true, "add_eos_token": true}""");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal([folder.Specials["<s>"], .. tokenizer.Encode(Text, false), folder.Specials["</s>"]], tokenizer.Encode(Text));
    }

    [Fact]
    public void Llama3_ids_come_from_tokenizer_config_with_every_config_eos_as_a_stop()
    {
        using var folder = TokenizerFolder.Create("llama3");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal(folder.Specials["<|begin_of_text|>"], tokenizer.BosId);
        // eos_token is an AddedToken object there.
        Assert.Equal(folder.Specials["<|eot_id|>"], tokenizer.EosId);
        Assert.Equal(tokenizer.EosId, tokenizer.PadId); // no pad_token: eos
        Assert.Equal([folder.Specials["<|eot_id|>"], folder.Specials["<|end_of_text|>"]], tokenizer.StopIds);
    }

    [Fact]
    public void Qwen2_without_a_bos_token_takes_configs_bos_id_and_its_own_pad()
    {
        using var folder = TokenizerFolder.Create("qwen2");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal(folder.Specials["<|endoftext|>"], tokenizer.BosId);
        Assert.Equal(folder.Specials["<|im_end|>"], tokenizer.EosId);
        Assert.Equal(folder.Specials["<|endoftext|>"], tokenizer.PadId);
        Assert.False(tokenizer.AddsBos);
    }

    [Fact]
    public void Special_tokens_map_fills_in_when_tokenizer_config_is_absent()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        var eot = folder.Specials["<|endoftext|>"];
        Assert.Equal((eot, eot, eot, eot), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId, tokenizer.UnkId));
    }

    [Fact]
    public void Tokenizer_config_wins_over_special_tokens_map_and_config_json()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        var vocab = folder.Vocab;
        Patch(folder, "tokenizer_config.json", """{"eos_token": {"content": "Ġthe", "special": false}}""");
        folder.WriteJson("config.json", new { eos_token_id = 3 });
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal(vocab["Ġthe"], tokenizer.EosId);
        Assert.Equal([vocab["Ġthe"], 3], tokenizer.StopIds);
        Assert.Equal(folder.Specials["<|endoftext|>"], tokenizer.BosId); // from special_tokens_map.json
    }

    [Fact]
    public void Config_json_ids_are_the_fallback()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        File.Delete(Path.Combine(folder.Dir, "special_tokens_map.json"));
        folder.WriteJson("config.json", new { bos_token_id = 7, eos_token_id = new[] { 9, 11 }, pad_token_id = (int?)null });
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal((7, 9, 9), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal([9, 11], tokenizer.StopIds);
        Assert.Null(tokenizer.UnkId);
    }

    [Fact]
    public void Gpt2s_own_layout_names_only_ids_and_its_endoftext_is_still_one_special_token()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        var eot = folder.Specials["<|endoftext|>"];
        File.Delete(Path.Combine(folder.Dir, "special_tokens_map.json"));
        folder.WriteJson("config.json", new { model_type = "gpt2", bos_token_id = eot, eos_token_id = eot });
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal((eot, eot, eot), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        var ids = tokenizer.Encode("Hello<|endoftext|>world", addSpecialTokens: false);
        Assert.Equal(folder.ReferenceIds(["Hello<|endoftext|>world"])[0], ids);
        Assert.Contains(eot, ids);
        Assert.Equal("Helloworld", tokenizer.Decode(ids)); // special tokens are left out of decoded text
    }

    [Fact]
    public void Added_tokens_beyond_the_vocabulary_come_from_added_tokens_json_and_added_tokens_decoder()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        var size = folder.Vocab.Count + 1; // the learned vocabulary and <|endoftext|>
        folder.WriteJson("added_tokens.json", new Dictionary<string, int> { ["<|extra|>"] = size });
        folder.WriteJson("tokenizer_config.json", new Dictionary<string, object>
        {
            ["pad_token"] = "<|pad|>",
            ["added_tokens_decoder"] = new Dictionary<string, object> { [$"{size + 1}"] = new { content = "<|pad|>", special = true } },
        });
        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder.Dir);
        Assert.Equal(size + 1, tokenizer.PadId);
        Assert.Equal(size + 2, tokenizer.VocabSize);
        var ids = tokenizer.Encode("a<|extra|>b<|pad|>", addSpecialTokens: false);
        Assert.Equal([size, size + 1], ids.Where(id => id >= size));
    }

    internal static void Patch(TokenizerFolder folder, string file, string json) => File.WriteAllText(Path.Combine(folder.Dir, file), json);
}
