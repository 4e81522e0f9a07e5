using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// A text run's first stage: the SFT policy (a LoRA adapter trained on data.sft, as `morlaif sft --lora` trains it, or
/// the base itself when the run has no SFT data), then two sampled responses per pair prompt from it.
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

    /// <summary>
    /// Two responses per prompt, sampled from <paramref name="policy"/> with the run's seed; the first
    /// <paramref name="trainCount"/> prompts make the training pairs, the rest the held-out ones. A pair whose two
    /// samples are the same is drawn again (up to three times) and counted when it stays the same: a judge cannot
    /// prefer one of two equal texts.
    /// </summary>
    public static TextPairSet SamplePairs(TextRun run, HfCausalLm policy, IReadOnlyList<string> prompts, int trainCount)
    {
        var ids = prompts.Select(run.EncodePrompt).ToList();
        var options = new GenerationOptions { MaxNewTokens = run.Config.Ppo.MaxNewTokens, EosTokenIds = run.StopIds(policy), BatchSize = 16 };
        List<int[]> Draw(IReadOnlyList<int[]> batch, params object[] purpose)
        {
            using var g = new Generator((ulong)run.Seed(purpose), run.Device);
            return HfGeneration.Generate(policy, batch, options, g).Select(r => r.Ids).ToList();
        }
        var a = Draw(ids, "pairs", "a");
        var b = Draw(ids, "pairs", "b");
        for (var retry = 0; retry < 3; retry++)
        {
            var same = Enumerable.Range(0, ids.Count).Where(i => a[i].SequenceEqual(b[i])).ToList();
            if (same.Count == 0) break;
            var redrawn = Draw(same.Select(i => ids[i]).ToList(), "pairs", "b", retry + 1);
            for (var j = 0; j < same.Count; j++) b[same[j]] = redrawn[j];
        }
        var pairs = Enumerable.Range(0, ids.Count)
            .Select(i => new TextPair(prompts[i], ids[i], a[i], b[i], run.Decode(a[i]), run.Decode(b[i]))).ToList();
        return new TextPairSet(pairs[..trainCount], pairs[trainCount..], pairs.Count(p => p.A.SequenceEqual(p.B)));
    }
}
