using System.Diagnostics;
using System.Globalization;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Training;

namespace Morlaif.Cli;

/// <summary>
/// morlaif sft: full supervised fine-tuning of a Hugging Face checkpoint on a TRL SFT JSONL file (see
/// <see cref="SftDatasets"/>); writes a Hugging Face folder (config.json, model.safetensors, the tokenizer files).
/// </summary>
public static class SftCommand
{
    public static readonly string[] Options = ["model", "data", "out", "epochs", "learning-rate", "batch-size", "max-length", "seed", "device", "lora"];

    public static int Execute(CliArguments args)
    {
        HfOptions.RefuseLora(args, "lora");
        var folder = HfOptions.ModelFolder(args);
        var data = args.Get("data") ?? throw new UsageException("option '--data' is required (TRL SFT JSONL: prompt/completion, messages or text)");
        var outDir = args.Get("out") ?? throw new UsageException("option '--out' is required");
        var lr = args.GetDouble("learning-rate") ?? 2e-5;
        if (lr <= 0) throw new UsageException($"option '--learning-rate': must be > 0 (got {lr})");
        var settings = new HfSftSettings(HfOptions.PositiveInt(args, "epochs", 3), HfOptions.PositiveInt(args, "batch-size", 8), lr,
            Seed: args.GetLong("seed") ?? 1);
        var maxLength = HfOptions.PositiveInt(args, "max-length", 1024);
        var device = HfOptions.Device(args);
        var examples = SftDatasets.Read(data);

        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder);
        using var model = HfModelFolder.Load(folder, device: device);
        // GPT-2's learned positions end at n_positions.
        if (model.Config.IsGpt2) maxLength = Math.Min(maxLength, model.Config.MaxPositions);
        var demos = new List<Demonstration>(examples.Count);
        foreach (var e in examples)
            demos.Add(HfSupervisedFineTuning.Demonstrate(tokenizer, e.Prompt, e.Completion, maxLength)
                ?? throw new DatasetException(data, e.Line, $"the prompt fills all {maxLength} tokens of --max-length: no completion token is left"));

        HfOptions.CheckFits(folder, model, demos.Max(d => d.Ids.Max()), 0, "");
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"sft: {demos.Count} examples, {demos.Sum(d => d.Ids.Length - d.ResponseStart)} trained tokens, "
            + $"{model.parameters().Sum(p => p.numel()) / 1e6:F1}M parameters, {settings.Epochs} epochs, batch {settings.BatchSize}, lr {lr:G3}"));
        var clock = Stopwatch.StartNew();
        HfSupervisedFineTuning.Train(model, demos, settings, (epoch, loss) =>
            Console.WriteLine(string.Create(c, $"epoch {epoch}/{settings.Epochs}: mean loss {loss:F4} ({clock.Elapsed.TotalSeconds:F1} s)")));
        HfModelFolder.Save(model, outDir, tokenizerSource: folder);
        Console.WriteLine($"wrote {Path.GetFullPath(outDir)}");
        return 0;
    }
}
