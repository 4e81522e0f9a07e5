using Morlaif.Learning.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Cli;

/// <summary>The options generate and sft share: the checkpoint folder, --device and --dtype, and the LoRA options that are not built yet.</summary>
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

    /// <summary>LoRA adapters come with issue 10's LoRA work; until then the options are refused rather than ignored.</summary>
    public static void RefuseLora(CliArguments args, string option)
    {
        if (args.Has(option)) throw new UsageException($"option '--{option}' is not supported yet (LoRA adapters: issue 10)");
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
