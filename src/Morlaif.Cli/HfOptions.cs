using System.CommandLine;
using Morlaif.Learning.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Cli;

/// <summary>The options generate and sft share: the checkpoint folder, --device and --dtype, LoRA adapters, positive sizes.</summary>
internal static class HfOptions
{
    public static Option<string> Model() =>
        new("--model") { Description = "a Hugging Face checkpoint folder: config.json, *.safetensors, tokenizer files", HelpName = "DIR", Required = true };

    public static string ModelFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new UsageException($"option '--model': '{dir}' is not a folder");
        // config.json first: a folder that is not a checkpoint at all should say so, not that its tokenizer is missing.
        _ = Learning.HuggingFace.HfConfig.Load(dir);
        return dir;
    }

    public static Device Device(string name) => name switch
    {
        "cuda" when cuda.is_available() => CUDA,
        "cuda" => throw new UsageException("option '--device': cuda is not available on this machine"),
        _ => CPU,
    };

    public static ScalarType? Dtype(string? name)
    {
        if (name is null) return null;
        try
        {
            return Learning.HuggingFace.HfModelFolder.ParseTorchDtype(name);
        }
        catch (ConfigException e)
        {
            throw new UsageException($"option '--dtype': {e.Message}");
        }
    }

    /// <summary>
    /// The base with the PEFT adapter folder named by --adapter applied (active, not merged), or the base alone.
    /// A preference model's adapter (task_type SEQ_CLS, with a score head) is not a policy: refused by name.
    /// </summary>
    public static Learning.HuggingFace.Lora.LoraModel? ApplyAdapter(string? dir, Learning.HuggingFace.HfCausalLm model)
    {
        if (dir is null) return null;
        if (!Directory.Exists(dir)) throw new UsageException($"option '--adapter': '{dir}' is not a folder");
        var lora = new Learning.HuggingFace.Lora.LoraModel(model);
        var loaded = Learning.HuggingFace.Lora.LoraFolder.Load(lora, dir, "adapter");
        if (loaded.TaskType != "CAUSAL_LM")
            throw new ConfigException($"{Path.Combine(dir, Learning.HuggingFace.Lora.LoraFolder.ConfigFile)}: task_type '{loaded.TaskType}' is not a policy's adapter (generate applies CAUSAL_LM adapters)");
        lora.SetActive("adapter");
        return lora;
    }

    /// <summary>Token ids the model cannot embed (a tokenizer larger than config.json's vocab_size) or a GPT-2 input past its learned positions.</summary>
    public static void CheckFits(string folder, Learning.HuggingFace.HfCausalLm model, int maxId, int length, string what)
    {
        if (maxId >= model.Config.VocabSize)
            throw new ConfigException($"{folder}: the tokenizer gives id {maxId}, beyond config.json's vocab_size {model.Config.VocabSize}");
        if (model.Config.IsGpt2 && length >= model.Config.MaxPositions)
            throw new UsageException($"{what} is {length} tokens, but GPT-2's n_positions is {model.Config.MaxPositions}");
    }

    /// <summary>An integer option that must be at least 1, read as <see cref="int"/>.</summary>
    public static Option<long> PositiveInt(string name, string description, int fallback) =>
        new(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback, Validators = { Positive } };

    private static void Positive(System.CommandLine.Parsing.OptionResult result)
    {
        var v = result.GetValueOrDefault<long>();
        if (v is < 1 or > int.MaxValue) result.AddError($"option '{result.Option.Name}': must be at least 1 (got {v})");
    }
}
