using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.Tests.HuggingFace.Tokenization;

/// <summary>A folder whose tokenizer cannot be read is one ConfigException naming the folder, file and field.</summary>
public class TokenizerErrorTests
{
    private static string Fails(TokenizerFolder folder)
    {
        var e = Assert.Throws<ConfigException>(() => PreTrainedTokenizer.FromPretrained(folder.Dir));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private static string Fails(string dir) => Assert.Throws<ConfigException>(() => PreTrainedTokenizer.FromPretrained(dir)).Message;

    [Fact]
    public void A_missing_folder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "morlaif-no-such-" + Guid.NewGuid().ToString("N"));
        Assert.Equal($"{dir}: no such folder", Fails(dir));
    }

    [Fact]
    public void A_folder_without_tokenizer_files()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-tok-empty-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
            Assert.Equal($"{dir}: no tokenizer.json or vocab.json + merges.txt", Fails(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Vocab_json_without_merges()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        File.Delete(Path.Combine(folder.Dir, "merges.txt"));
        Assert.StartsWith($"{folder.Dir}/vocab.json: no merges.txt", Fails(folder));
    }

    [Theory]
    [InlineData("{\"model\": ", "tokenizer.json: not valid JSON (line 1")]
    [InlineData("[1, 2]", "tokenizer.json: must be a JSON object")]
    [InlineData("{\"model\": {\"type\": \"BPE\"}}", "tokenizer.json: model.vocab is missing")]
    [InlineData("{\"model\": {\"vocab\": {\"a\": \"x\"}}}", "tokenizer.json: model.vocab['a'] must be a non-negative integer id")]
    public void A_broken_tokenizer_json(string content, string expected)
    {
        using var folder = TokenizerFolder.Create("gpt2-json");
        File.WriteAllText(folder.TokenizerJsonPath, content);
        Assert.StartsWith($"{folder.Dir}/{expected}", Fails(folder));
    }

    [Fact]
    public void An_unsupported_post_processor_is_named()
    {
        using var folder = TokenizerFolder.Create("gpt2-json");
        File.WriteAllText(folder.TokenizerJsonPath, File.ReadAllText(folder.TokenizerJsonPath)
            .Replace("\"post_processor\":{\"type\":\"ByteLevel\"", "\"post_processor\":{\"type\":\"Whatever\""));
        Assert.StartsWith($"{folder.Dir}/tokenizer.json: post_processor.type 'Whatever' is not supported", Fails(folder));
    }

    [Fact]
    public void What_the_native_library_rejects_names_the_file()
    {
        using var folder = TokenizerFolder.Create("gpt2-json");
        File.WriteAllText(folder.TokenizerJsonPath, File.ReadAllText(folder.TokenizerJsonPath).Replace("\"type\":\"BPE\"", "\"type\":\"NoSuchModel\""));
        Assert.StartsWith($"{folder.Dir}/tokenizer.json: ", Fails(folder));
    }

    [Theory]
    [InlineData("tokenizer_config.json", """{"eos_token": "<|nope|>"}""", "tokenizer_config.json: eos_token '<|nope|>' is not in the tokenizer's vocabulary (tokenizer.json)")]
    [InlineData("tokenizer_config.json", """{"eos_token": 5}""", "tokenizer_config.json: eos_token must be a string, an object with a \"content\" string, or null")]
    [InlineData("tokenizer_config.json", """{"bos_token": {"text": "x"}}""", "tokenizer_config.json: bos_token must be a string")]
    [InlineData("tokenizer_config.json", """{"add_bos_token": "yes"}""", "tokenizer_config.json: add_bos_token must be true or false")]
    [InlineData("tokenizer_config.json", """{"bos_token": null, "add_bos_token": true}""", "tokenizer_config.json: add_bos_token is true but no bos_token is set")]
    [InlineData("special_tokens_map.json", """{"pad_token": "<pad>"}""", "special_tokens_map.json: pad_token '<pad>' is not in the tokenizer's vocabulary")]
    [InlineData("config.json", """{"eos_token_id": "2"}""", "config.json: eos_token_id must be a non-negative integer, a list of them, or null")]
    [InlineData("config.json", """{"eos_token_id": [1, -2]}""", "config.json: eos_token_id must be a non-negative integer")]
    [InlineData("tokenizer_config.json", """{"eos_token": """, "tokenizer_config.json: not valid JSON")]
    public void A_bad_special_token_field_is_named(string file, string content, string expected)
    {
        using var folder = TokenizerFolder.Create("gpt2-json");
        File.WriteAllText(Path.Combine(folder.Dir, file), content);
        if (file != "config.json")
            File.WriteAllText(Path.Combine(folder.Dir, "config.json"), "{}"); // no bos_token_id to fall back on
        Assert.StartsWith($"{folder.Dir}/{expected}", Fails(folder));
    }

    [Theory]
    [InlineData("Ġ t\nnot-a-pair\n", "merges.txt: line 3: expected two tokens separated by one space, got 'not-a-pair'")]
    [InlineData("Ġ t\nĠ qqqq\n", "merges.txt: line 3: 'qqqq' is not in vocab.json")]
    public void A_bad_merges_line_is_named(string merges, string expected)
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        File.WriteAllText(Path.Combine(folder.Dir, "merges.txt"), "#version: 0.2\n" + merges);
        Assert.StartsWith($"{folder.Dir}/{expected}", Fails(folder));
    }

    [Fact]
    public void An_added_token_id_the_library_would_not_give_is_named()
    {
        using var folder = TokenizerFolder.Create("gpt2-vocab-merges");
        var size = folder.Vocab.Count + 1;
        folder.WriteJson("added_tokens.json", new Dictionary<string, int> { ["<|extra|>"] = size + 5 });
        Assert.Equal($"{folder.Dir}/vocab.json + merges.txt: added token '<|extra|>' has id {size + 5} there but {size} in the tokenizer " +
            "(added tokens outside the vocabulary must take the ids after it, in order)", Fails(folder));
    }
}
