using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// A text run's first stage: the SFT policy (a LoRA adapter trained on data.sft, as `morlaif sft --lora` trains it, or
/// the base itself when the run has no SFT data).
/// </summary>
public static class TextSftStage
{
    /// <summary>
    /// Trains the SFT adapter on <paramref name="demos"/> and writes it to <paramref name="adapterFolder"/> as a PEFT
    /// folder; returns each epoch's mean loss per trained token.
    /// </summary>
    public static List<double> Train(TextRun run, IReadOnlyList<SftDemonstration> demos, string adapterFolder, Action<int, double>? progress = null)
    {
        using var model = run.LoadSftPolicy(null);
        var lora = new LoraModel(model);
        lora.AddAdapter(TextRun.SftAdapter, run.Lora, run.Seed("sft-adapter"));
        var maxLength = model.Config.MaxPositions;
        var examples = demos.Select(d => HfSftPolicy.Demonstrate(run.Tokenizer, d.Prompt, d.Completion, maxLength)).OfType<Demonstration>().ToList();
        if (examples.Count == 0) throw new InvalidDataException($"data.sft: no demonstration leaves room for a completion token within the model's {maxLength} positions");
        var s = run.Config.Sft;
        var losses = SupervisedFineTuning.Train(HfSftPolicy.Adapter(lora, TextRun.SftAdapter), examples, SftSettings.Constant(s.Epochs, s.BatchSize, s.LearningRate),
            new Random(run.Seed("sft")), progress is null ? null : (epoch, loss) => progress(epoch, loss.LossPerToken));
        LoraFolder.Save(lora, TextRun.SftAdapter, adapterFolder);
        lora.RemoveAdapter(TextRun.SftAdapter);
        return [.. losses.Select(l => l.LossPerToken)];
    }
}
