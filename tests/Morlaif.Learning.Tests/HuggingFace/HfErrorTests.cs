using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>Each unreadable config.json or weights file is one ConfigException (printed as one line) naming the file and the field or key.</summary>
public class HfErrorTests
{
    private static string ConfigError(string json) => Assert.Throws<ConfigException>(() => HfConfig.Parse(json, "/m/config.json")).Message;

    private static string Edit(string json, Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        edit(o);
        return o.ToJsonString();
    }

    [Fact]
    public void An_unsupported_rope_type_names_the_field_and_the_supported_ones()
    {
        var json = Edit(TinyHf.LlamaConfig(), o => o["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 });
        Assert.Equal("/m/config.json: rope_scaling.rope_type 'yarn' is not supported (supported: default, llama3)", ConfigError(json));
        // Older files name it "type".
        var old = Edit(TinyHf.LlamaConfig(), o => o["rope_scaling"] = new JsonObject { ["type"] = "dynamic", ["factor"] = 2.0 });
        Assert.Equal("/m/config.json: rope_scaling.rope_type 'dynamic' is not supported (supported: default, llama3)", ConfigError(old));
    }

    [Theory]
    [InlineData("n_embd")]
    [InlineData("n_layer")]
    [InlineData("vocab_size")]
    public void A_missing_gpt2_field_is_named(string field) =>
        Assert.Equal($"/m/config.json: {field} is missing", ConfigError(Edit(TinyHf.Gpt2Config(), o => o.Remove(field))));

    [Theory]
    [InlineData("hidden_size")]
    [InlineData("intermediate_size")]
    [InlineData("num_attention_heads")]
    public void A_missing_llama_field_is_named(string field) =>
        Assert.Equal($"/m/config.json: {field} is missing", ConfigError(Edit(TinyHf.LlamaConfig(), o => o.Remove(field))));

    [Fact]
    public void A_missing_llama3_parameter_is_named_with_its_object()
    {
        var json = Edit(TinyHf.LlamaConfig(extra: TinyHf.Llama3Scaling), o => o["rope_scaling"]!.AsObject().Remove("low_freq_factor"));
        Assert.Equal("/m/config.json: rope_scaling.low_freq_factor is missing", ConfigError(json));
    }

    [Fact]
    public void Other_unusable_configs_name_their_field()
    {
        Assert.Equal("/m/config.json: model_type 'bert' is not supported (supported: gpt2, llama, mistral, qwen2)",
            ConfigError(Edit(TinyHf.Gpt2Config(), o => o["model_type"] = "bert")));
        Assert.Equal("/m/config.json: model_type is missing", ConfigError(Edit(TinyHf.Gpt2Config(), o => o.Remove("model_type"))));
        Assert.Equal("/m/config.json: n_head must be a positive integer (found \"4\")", ConfigError(Edit(TinyHf.Gpt2Config(), o => o["n_head"] = "4")));
        Assert.Equal("/m/config.json: num_attention_heads (4) is not a multiple of num_key_value_heads (3)",
            ConfigError(Edit(TinyHf.LlamaConfig(), o => o["num_key_value_heads"] = 3)));
        Assert.Equal("/m/config.json: hidden_act 'gelu' is not supported (supported: silu)", ConfigError(Edit(TinyHf.LlamaConfig(), o => o["hidden_act"] = "gelu")));
        Assert.Equal("/m/config.json: activation_function 'swish' is not supported (supported: gelu_new, gelu_pytorch_tanh, gelu, relu)",
            ConfigError(Edit(TinyHf.Gpt2Config(), o => o["activation_function"] = "swish")));
        Assert.StartsWith("/m/config.json: is not JSON", ConfigError("{ \"model_type\": "));
        Assert.StartsWith("/m/config.json: has a field twice", ConfigError("{ \"model_type\": \"gpt2\", \"model_type\": \"gpt2\" }"));
    }

    [Fact]
    public void A_config_file_that_is_absent_is_named()
    {
        using var folder = new TinyHf.TempFolder();
        var e = Assert.Throws<ConfigException>(() => HfModelFolder.Load(folder.Path));
        Assert.StartsWith(Path.Combine(folder.Path, "config.json") + ": cannot be read", e.Message);
    }

    /// <summary>A saved tiny Llama whose weights file <paramref name="edit"/> then damages; returns the error's message.</summary>
    private static string WeightsError(Action<string> edit, bool sharded = false)
    {
        using var folder = new TinyHf.TempFolder();
        using (var model = TinyHf.Model(TinyHf.LlamaConfig(), seed: 1))
            HfModelFolder.Save(model, folder.Path, maxShardBytes: sharded ? 10_000 : HfModelFolder.DefaultMaxShardBytes);
        edit(folder.Path);
        return Assert.Throws<ConfigException>(() => HfModelFolder.Load(folder.Path)).Message.Replace(folder.Path, "DIR");
    }

    private static void EditWeights(string folder, Action<JsonObject> edit) => TinyHf.EditHeader(Path.Combine(folder, HfModelFolder.WeightsFile), edit);

    [Fact]
    public void A_missing_tensor_is_named_with_the_file()
    {
        var message = WeightsError(f => EditWeights(f, h => h.Remove("model.layers.1.mlp.up_proj.weight")));
        Assert.Equal("DIR/model.safetensors: missing tensor 'model.layers.1.mlp.up_proj.weight'", message);
    }

    [Fact]
    public void An_unexpected_tensor_is_named_with_the_file()
    {
        var message = WeightsError(f => EditWeights(f, h =>
        {
            var entry = h["model.norm.weight"]!;
            h.Remove("model.norm.weight");
            h["model.final_norm.weight"] = entry;
        }));
        Assert.Equal("DIR/model.safetensors: unexpected tensor 'model.final_norm.weight' (the Llama model has no such parameter)", message);
    }

    [Fact]
    public void A_mis_shaped_tensor_is_named_with_both_shapes()
    {
        var message = WeightsError(f =>
        {
            var config = Path.Combine(f, "config.json");
            var o = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
            o["intermediate_size"] = 64;
            File.WriteAllText(config, o.ToJsonString());
        });
        Assert.Matches(@"^DIR/model\.safetensors: tensor 'model\.layers\.\d\.mlp\.\w+_proj\.weight' has shape \[\d+, \d+\], the model expects \[\d+, \d+\]$", message);
    }

    [Fact]
    public void An_unsupported_dtype_is_named_with_the_key()
    {
        var message = WeightsError(f => EditWeights(f, h =>
        {
            // Same byte count: F32 [8] read as I32 [8].
            h["model.norm.weight"]!["dtype"] = "I32";
        }));
        Assert.Equal("DIR/model.safetensors: tensor 'model.norm.weight' has dtype 'I32', which is not supported (supported: F32, F16, BF16)", message);
    }

    [Fact]
    public void A_sharded_checkpoint_whose_index_points_at_the_wrong_shard_is_named()
    {
        var message = WeightsError(f =>
        {
            var path = Path.Combine(f, HfModelFolder.IndexFile);
            var index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var map = index["weight_map"]!.AsObject();
            var shards = map.Select(p => p.Value!.GetValue<string>()).Distinct().Order().ToList();
            Assert.True(shards.Count > 1);
            var key = map.First(p => p.Value!.GetValue<string>() == shards[0]).Key;
            map[key] = shards[1];
            File.WriteAllText(path, index.ToJsonString());
        }, sharded: true);
        Assert.Matches(@"^DIR/model-00002-of-\d{5}\.safetensors: has no tensor '[\w.]+', which model\.safetensors\.index\.json places there$", message);
    }

    [Fact]
    public void A_folder_without_safetensors_is_one_error()
    {
        var message = WeightsError(f => File.Delete(Path.Combine(f, HfModelFolder.WeightsFile)));
        Assert.Equal("DIR: has neither model.safetensors nor model.safetensors.index.json (only safetensors checkpoints are supported)", message);
    }

    [Fact]
    public void A_truncated_weights_file_is_named()
    {
        var message = WeightsError(f =>
        {
            var path = Path.Combine(f, HfModelFolder.WeightsFile);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^100]);
        });
        Assert.Matches(@"^DIR/model\.safetensors: tensor '[\w.]+' ends past the end of the file$", message);
    }
}
