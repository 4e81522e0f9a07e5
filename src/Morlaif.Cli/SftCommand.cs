using System.Diagnostics;
using System.Globalization;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Training;

namespace Morlaif.Cli;

/// <summary>
/// morlaif sft: full supervised fine-tuning of a Hugging Face checkpoint on a TRL SFT JSONL file (see
/// <see cref="SftDatasets"/>); writes a Hugging Face folder (config.json, model.safetensors, the tokenizer files), or with
/// --lora a PEFT adapter folder (adapter_config.json, adapter_model.safetensors) trained on the frozen base.
/// </summary>
public static class SftCommand
{
    public static readonly string[] Options = ["model", "data", "out", "epochs", "learning-rate", "batch-size", "max-length", "seed", "device", "lora", "lora-alpha"];

    public static int Execute(CliArguments args)
    {
        var folder = HfOptions.ModelFolder(args);
        var data = args.Get("data") ?? throw new UsageException("option '--data' is required (TRL SFT JSONL: prompt/completion, messages or text)");
        var outDir = args.Get("out") ?? throw new UsageException("option '--out' is required");
        // --lora R trains a rank-R adapter (alpha --lora-alpha, default 32: the paper's) on the frozen base and writes
        // only the adapter; adapters take a larger step than full fine-tuning (PEFT's examples use 1e-4 to 2e-4).
        var lora = args.Has("lora") ? new LoraSettings(HfOptions.PositiveInt(args, "lora", 8), args.GetDouble("lora-alpha") ?? 32) : null;
        if (lora is null && args.Has("lora-alpha")) throw new UsageException("option '--lora-alpha' needs '--lora R'");
        if (lora is { Alpha: <= 0 or double.NaN }) throw new UsageException($"option '--lora-alpha': must be > 0 (got {lora.Alpha})");
        var lr = args.GetDouble("learning-rate") ?? (lora is null ? 2e-5 : 1e-4);
        if (lr <= 0) throw new UsageException($"option '--learning-rate': must be > 0 (got {lr})");
        var settings = SftSettings.Constant(HfOptions.PositiveInt(args, "epochs", 3), HfOptions.PositiveInt(args, "batch-size", 8), lr);
        var seed = args.GetLong("seed") ?? 1;
        var maxLength = HfOptions.PositiveInt(args, "max-length", 1024);
        var device = HfOptions.Device(args);
        var examples = SftDatasets.Read(data);

        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder);
        using var model = HfModelFolder.Load(folder, device: device);
        // GPT-2's learned positions end at n_positions.
        if (model.Config.IsGpt2) maxLength = Math.Min(maxLength, model.Config.MaxPositions);
        var demos = new List<Demonstration>(examples.Count);
        foreach (var e in examples)
            demos.Add(HfSftPolicy.Demonstrate(tokenizer, e.Prompt, e.Completion, maxLength)
                ?? throw new DatasetException(data, e.Line, $"the prompt fills all {maxLength} tokens of --max-length: no completion token is left"));

        HfOptions.CheckFits(folder, model, demos.Max(d => d.Ids.Max()), 0, "");
        LoraModel? adapters = null;
        if (lora is not null)
        {
            adapters = new LoraModel(model);
            adapters.AddAdapter(Adapter, lora, seed);
        }
        var policy = adapters is null ? HfSftPolicy.Full(model) : HfSftPolicy.Adapter(adapters, Adapter);
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"sft: {demos.Count} examples, {demos.Sum(d => d.Ids.Length - d.ResponseStart)} trained tokens, "
            + $"{model.parameters().Sum(p => p.numel()) / 1e6:F1}M parameters, {Trained(policy.Trainable, lora)}, {settings.Epochs} epochs, batch {settings.BatchSize}, lr {lr:G3}"));
        var clock = Stopwatch.StartNew();
        SupervisedFineTuning.Train(policy, demos, settings, new Random(checked((int)seed)), (epoch, loss) =>
            Console.WriteLine(string.Create(c, $"epoch {epoch}/{settings.Epochs}: mean loss {loss.LossPerToken:F4} ({clock.Elapsed.TotalSeconds:F1} s)")));
        if (adapters is null) HfModelFolder.Save(model, outDir, tokenizerSource: folder);
        else LoraFolder.Save(adapters, Adapter, outDir, baseModelNameOrPath: Path.GetFullPath(folder));
        Console.WriteLine($"wrote {Path.GetFullPath(outDir)}");
        return 0;
    }

    /// <summary>PEFT's name for a model's only adapter.</summary>
    private const string Adapter = "default";

    private static string Trained(IReadOnlyList<TorchSharp.Modules.Parameter> trainable, LoraSettings? lora) =>
        string.Create(CultureInfo.InvariantCulture, $"{trainable.Sum(p => p.numel()) / 1e6:F2}M trained")
        + (lora is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (LoRA r {lora.Rank}, alpha {lora.Alpha:G})"));
}
