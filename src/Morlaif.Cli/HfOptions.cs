using Morlaif.Learning.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Cli;

/// <summary>The options generate and sft share: the checkpoint folder, --device and --dtype, and LoRA adapters.</summary>
internal static class HfOptions
{
    public static string ModelFolder(CliArguments args)
    {
        var dir = args.Get("model") ?? throw new UsageException("option '--model' is required (a Hugging Face folder: config.json, *.safetensors, tokenizer files)");
        if (!Directory.Exists(dir)) throw new UsageException($"option '--model': '{dir}' is not a folder");
        // config.json first: a folder that is not a checkpoint at all should say so, not that its tokenizer is missing.
        _ = Learning.HuggingFace.HfConfig.Load(dir);
        return dir;
    }

    public static Device Device(CliArguments args) => args.Get("device") switch
    {
        null or "cpu" => CPU,
        "cuda" when cuda.is_available() => CUDA,
        "cuda" => throw new UsageException("option '--device': cuda is not available on this machine"),
        var other => throw new UsageException($"option '--device': '{other}' is not cpu or cuda"),
    };

    public static ScalarType? Dtype(CliArguments args)
    {
        if (args.Get("dtype") is not { } name) return null;
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
    public static Learning.HuggingFace.Lora.LoraModel? ApplyAdapter(CliArguments args, Learning.HuggingFace.HfCausalLm model)
    {
        if (args.Get("adapter") is not { } dir) return null;
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

    public static int PositiveInt(CliArguments args, string name, int fallback)
    {
        var v = args.GetLong(name) ?? fallback;
        return v is >= 1 and <= int.MaxValue ? (int)v : throw new UsageException($"option '--{name}': must be at least 1 (got {v})");
    }
}
