using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Runs;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Morlaif.Learning.Tests.HuggingFace.Lora.LoraTestKit;

namespace Morlaif.Learning.Tests.HuggingFace.Lora;

/// <summary>Adapters saved alone in PEFT's layout: round trip, the exact keys and config, the reference's reading of them, errors.</summary>
public class LoraFolderTests(ITestOutputHelper output)
{
    /// <summary>The safetensors header read directly (not through the project's reader): key -> shape.</summary>
    private static Dictionary<string, long[]> Header(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BitConverter.ToUInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, length))!.AsObject();
        return header.Where(p => p.Key != "__metadata__")
            .ToDictionary(p => p.Key, p => p.Value!["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray());
    }

    private static (HfCausalLm Model, LoraModel Lora) Adapted(string arch, long seed)
    {
        var model = TinyHf.Model(Config(arch), seed);
        var lora = new LoraModel(model);
        lora.AddAdapter("a", new LoraSettings());
        Randomize(lora, "a", seed + 100);
        lora.SetActive("a");
        return (model, lora);
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void A_saved_adapter_loads_onto_a_fresh_base_with_identical_logits(string arch)
    {
        using var folder = new TinyHf.TempFolder();
        var (model, lora) = Adapted(arch, seed: 20);
        using var _ = model;
        using var expected = Logits(model);
        LoraFolder.Save(lora, "a", folder.Path, "tiny-" + arch);
        using var fresh = TinyHf.Model(Config(arch), seed: 20);
        var loaded = new LoraModel(fresh);
        var result = LoraFolder.Load(loaded, folder.Path, "principle");
        Assert.Equal(new LoraSettings().Rank, result.Settings.Rank);
        loaded.SetActive("principle");
        Assert.Equal(TinyHf.Floats(expected), TinyHf.Floats(Logits(fresh)));
    }

    [Fact]
    public void The_saved_keys_and_config_are_PEFTs_for_gpt2()
    {
        using var folder = new TinyHf.TempFolder();
        var (model, lora) = Adapted("gpt2", seed: 21);
        using var _ = model;
        LoraFolder.Save(lora, "a", folder.Path, "gpt2");
        var keys = Header(Path.Combine(folder.Path, "adapter_model.safetensors"));
        var expected = new List<string>();
        foreach (var i in new[] { 0, 1 })
            foreach (var m in new[] { "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj" })
                foreach (var ab in new[] { "lora_A", "lora_B" })
                    expected.Add($"base_model.model.transformer.h.{i}.{m}.{ab}.weight");
        Assert.Equal(expected.Order(), keys.Keys.Order());
        // Conv1D c_attn maps 32 -> 96 (its weight is [32, 96]); LoRA's A is [r, in], B [out, r] whatever the base layout.
        Assert.Equal([8, 32], keys["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]);
        Assert.Equal([96, 8], keys["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]);
        Assert.Equal([32, 8], keys["base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight"]);
        Assert.Equal([8, 128], keys["base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight"]);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal("CAUSAL_LM", config["task_type"]!.GetValue<string>());
        Assert.Equal("gpt2", config["base_model_name_or_path"]!.GetValue<string>());
        Assert.Equal(8, config["r"]!.GetValue<int>());
        Assert.Equal(32, config["lora_alpha"]!.GetValue<double>());
        Assert.Equal(0, config["lora_dropout"]!.GetValue<double>());
        Assert.True(config["fan_in_fan_out"]!.GetValue<bool>());
        Assert.Equal("none", config["bias"]!.GetValue<string>());
        Assert.Equal(["c_attn", "c_proj", "c_fc"], config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Null(config["modules_to_save"]);
    }

    [Fact]
    public void The_saved_keys_are_PEFTs_for_llama_and_fan_in_fan_out_is_false()
    {
        using var folder = new TinyHf.TempFolder();
        var (model, lora) = Adapted("llama", seed: 22);
        using var _ = model;
        LoraFolder.Save(lora, "a", folder.Path);
        var keys = Header(Path.Combine(folder.Path, "adapter_model.safetensors"));
        Assert.Equal(2 * 7 * 2, keys.Count);
        // kv heads 2 x head_dim 8: k_proj maps 32 -> 16.
        Assert.Equal([16, 8], keys["base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight"]);
        Assert.Equal([8, 48], keys["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"]);
        Assert.Contains("base_model.model.model.layers.1.mlp.gate_proj.lora_A.weight", keys.Keys);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, "adapter_config.json")))!.AsObject();
        Assert.False(config["fan_in_fan_out"]!.GetValue<bool>());
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void The_reference_applying_the_saved_adapter_gives_the_same_logits(string arch)
    {
        using var baseFolder = new TinyHf.TempFolder();
        using var adapterFolder = new TinyHf.TempFolder();
        var (model, lora) = Adapted(arch, seed: 23);
        using var _ = model;
        using (lora.AdaptersOff()) HfModelFolder.Save(model, baseFolder.Path);
        LoraFolder.Save(lora, "a", adapterFolder.Path);
        using var ours = Logits(model);
        var reference = PythonReference.Run(baseFolder.Path, Rows, greedy: 0, adapter: adapterFolder.Path);
        using var theirs = tensor(reference.Logits.SelectMany(r => r.SelectMany(t => t)).ToArray(), ours.shape);
        using var baseOnly = tensor(PythonReference.Run(baseFolder.Path, Rows, greedy: 0).Logits.SelectMany(r => r.SelectMany(t => t)).ToArray(), ours.shape);
        var diff = TinyHf.MaxAbsDiff(ours, theirs);
        output.WriteLine($"{arch}: max |logit difference| with the adapter {diff:E2}; the adapter moves the reference's logits by {TinyHf.MaxAbsDiff(theirs, baseOnly):E2}");
        Assert.True(TinyHf.MaxAbsDiff(theirs, baseOnly) > 1e-2, "the adapter should change the reference's logits");
        Assert.True(diff < 1e-4, $"max difference {diff}");
    }

    public static TheoryData<string, string, string> BrokenConfigs() => new()
    {
        { "peft_type", "PREFIX_TUNING", "peft_type 'PREFIX_TUNING' is not supported" },
        { "r", "\"eight\"", "r must be a number" },
        { "lora_alpha", "-1", "lora_alpha must be positive" },
        { "fan_in_fan_out", "false", "fan_in_fan_out is false" },
        { "bias", "\"all\"", "bias 'all' is not supported" },
        { "target_modules", "\"c_.*\"", "target_modules must be a list" },
        { "use_dora", "true", "use_dora true is not supported" },
    };

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public void A_bad_adapter_config_names_the_file_and_field(string field, string value, string message)
    {
        using var folder = new TinyHf.TempFolder();
        var (model, lora) = Adapted("gpt2", seed: 24);
        using var _ = model;
        LoraFolder.Save(lora, "a", folder.Path);
        var path = Path.Combine(folder.Path, "adapter_config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config[field] = field == "peft_type" ? value : JsonNode.Parse(value);
        File.WriteAllText(path, config.ToJsonString());
        var target = new LoraModel(model);
        var e = Assert.Throws<ConfigException>(() => LoraFolder.Load(target, folder.Path, "b"));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
        Assert.False(target.Adapters.ContainsKey("b"));
    }

    [Fact]
    public void A_missing_misshapen_or_unexpected_tensor_names_the_file_and_key_and_adds_no_adapter()
    {
        using var folder = new TinyHf.TempFolder();
        var (model, lora) = Adapted("llama", seed: 25);
        using var _ = model;
        LoraFolder.Save(lora, "a", folder.Path);
        var file = Path.Combine(folder.Path, "adapter_model.safetensors");
        const string key = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
        var pristine = File.ReadAllBytes(file);

        void Expect(Action<JsonObject> edit, params string[] parts)
        {
            File.WriteAllBytes(file, pristine);
            TinyHf.EditHeader(file, edit);
            var target = new LoraModel(model);
            var e = Assert.Throws<ConfigException>(() => LoraFolder.Load(target, folder.Path, "b"));
            Assert.Contains(file, e.Message);
            foreach (var part in parts) Assert.Contains(part, e.Message);
            Assert.False(target.Adapters.ContainsKey("b"));
        }

        Expect(h => h.Remove(key), "missing tensor", key);
        Expect(h =>
        {
            var renamed = h[key]!.DeepClone();
            h.Remove(key);
            h["base_model.model.model.layers.1.self_attn.v_proj.lora_B.default.weight"] = renamed;
        }, "missing tensor", key, "lora_B.default.weight", "carry no adapter name");
        Expect(h => h["base_model.model.lm_head.lora_A.weight"] = h[key]!.DeepClone(), "unexpected tensor", "base_model.model.lm_head.lora_A.weight");
        Expect(h => h[key]!["shape"] = new JsonArray(8, 16), key, "[8, 16]");
        File.WriteAllBytes(file, pristine);
        File.Delete(Path.Combine(folder.Path, "adapter_config.json"));
        var noConfig = Assert.Throws<ConfigException>(() => LoraFolder.Load(new LoraModel(model), folder.Path, "b"));
        Assert.Contains("adapter_config.json: not found", noConfig.Message);
    }
}
