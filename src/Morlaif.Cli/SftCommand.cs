using System.CommandLine;
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
    private static readonly Option<string> Model = HfOptions.Model();
    private static readonly Option<string> Data =
        new("--data") { Description = "TRL SFT JSONL: prompt/completion, messages or text", HelpName = "FILE", Required = true };
    private static readonly Option<string?> Out = CliOptions.Out("the fine-tuned Hugging Face folder, or with --lora the adapter folder", required: true);
    private static readonly Option<long> Epochs = HfOptions.PositiveInt("--epochs", "passes over the data", 3);
    private static readonly Option<double?> LearningRate = new("--learning-rate") { Description = "AdamW's step (default: 2e-5, with --lora 1e-4)", HelpName = "X" };
    private static readonly Option<long> BatchSize = HfOptions.PositiveInt("--batch-size", "examples per step", 8);
    private static readonly Option<long> MaxLength = HfOptions.PositiveInt("--max-length", "tokens per example at most (longer ones keep their start)", 1024);
    private static readonly Option<long?> Seed = CliOptions.Seed("the seed of the shuffles and of a fresh adapter (default: 1)");
    private static readonly Option<string> Device = CliOptions.Device();
    private static readonly Option<long?> Lora = new("--lora") { Description = "train a rank-R LoRA adapter on the frozen base instead of every weight", HelpName = "R" };
    private static readonly Option<double?> LoraAlpha = new("--lora-alpha") { Description = "the adapter's alpha, with --lora (default: 32, the paper's)", HelpName = "A" };

    public static Command Create() => CliOptions.Command("sft",
        "Supervised fine-tuning of a Hugging Face checkpoint folder on TRL SFT JSONL; writes a Hugging Face folder, or a PEFT adapter folder.",
        "morlaif sft --model gpt2 --data sft.jsonl --out gpt2-sft --lora 8",
        [Model, Data, Out, Epochs, LearningRate, BatchSize, MaxLength, Seed, Device, Lora, LoraAlpha], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        var folder = HfOptions.ModelFolder(r.GetValue(Model)!);
        var data = r.GetValue(Data)!;
        var outDir = r.GetValue(Out)!;
        // --lora R trains a rank-R adapter (alpha --lora-alpha, default 32: the paper's) on the frozen base and writes
        // only the adapter; adapters take a larger step than full fine-tuning (PEFT's examples use 1e-4 to 2e-4).
        if (r.GetValue(Lora) is < 1 or > int.MaxValue) throw new UsageException($"option '--lora': must be at least 1 (got {r.GetValue(Lora)})");
        var lora = r.GetValue(Lora) is { } rank ? new LoraSettings((int)rank, r.GetValue(LoraAlpha) ?? 32) : null;
        if (lora is null && r.GetValue(LoraAlpha) is not null) throw new UsageException("option '--lora-alpha' needs '--lora R'");
        if (lora is { Alpha: <= 0 or double.NaN }) throw new UsageException($"option '--lora-alpha': must be > 0 (got {lora.Alpha})");
        var lr = r.GetValue(LearningRate) ?? (lora is null ? 2e-5 : 1e-4);
        if (!(lr > 0)) throw new UsageException($"option '--learning-rate': must be > 0 (got {lr})");
        var settings = SftSettings.Constant((int)r.GetValue(Epochs), (int)r.GetValue(BatchSize), lr);
        var seed = r.GetValue(Seed) ?? 1;
        var maxLength = (int)r.GetValue(MaxLength);
        var device = HfOptions.Device(r.GetValue(Device)!);
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
        await ProgressView.TaskAsync($"sft, {settings.Epochs} epochs", (done, line) => Task.FromResult(
            SupervisedFineTuning.Train(policy, demos, settings, new Random(checked((int)seed)), (epoch, loss) =>
            {
                line(string.Create(c, $"epoch {epoch}/{settings.Epochs}: mean loss {loss.LossPerToken:F4} ({clock.Elapsed.TotalSeconds:F1} s)"));
                done(epoch, settings.Epochs);
            })));
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
