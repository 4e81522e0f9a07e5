using System.Text.Json;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>What a text run's PM reports: its loss on its own training labels before and after training, and its held-out accuracy.</summary>
public sealed record TextPmStats(string Question, int TrainPairs, double InitialLoss, double FinalLoss, double HeldOutAccuracy, ScoreNormalizer Normalizer);

/// <summary>
/// One question's PM on a text run: a LoRA adapter with its score head (<see cref="HfPreferenceModel"/>) on the PM
/// base, trained with the Bradley-Terry loss with margin on the judge's labels of the training pairs. Saved as a PEFT
/// SEQ_CLS folder plus <see cref="StatsFile"/> (its normaliser and statistics), which is what the artifact holds and
/// what `morlaif export --pm` hands out.
/// </summary>
public static class TextPreferenceStage
{
    public const string StatsFile = "morlaif_pm.json";

    public static TextPmStats Train(TextRun run, TextPairSet pairs, LabelSet labels, string folder)
    {
        var question = labels.Question;
        if (labels.Train.Count != pairs.Train.Count || labels.Test.Count != pairs.Test.Count)
            throw new InvalidDataException($"labels of '{question}' cover {labels.Train.Count}+{labels.Test.Count} pairs, the run has {pairs.Train.Count}+{pairs.Test.Count}");
        var train = Pairs(pairs.Train, labels.Train);
        var test = Pairs(pairs.Test, labels.Test);
        using var model = run.LoadPmBase();
        using var pm = new HfPreferenceModel(model);
        pm.AddPrinciple(question, run.Lora, run.Seed("pm-init", question));
        var c = run.Config.PreferenceModel;
        var settings = new PmSettings(c.Epochs, c.BatchSize, c.LearningRate);
        var initial = HfPreferenceTraining.Loss(pm, question, train);
        HfPreferenceTraining.Train(pm, question, train, settings, run.Seed("pm", question));
        var final = HfPreferenceTraining.Loss(pm, question, train);
        var normalizer = ScoreNormalizer.Fit(pm.Score(question, [.. train.Select(p => p.A), .. train.Select(p => p.B)]));
        var stats = new TextPmStats(question, train.Count, initial, final, HfPreferenceTraining.Accuracy(pm, question, test), normalizer);
        pm.Save(question, folder);
        File.WriteAllBytes(Path.Combine(folder, StatsFile), JsonSerializer.SerializeToUtf8Bytes(stats, RunConfig.Json));
        return stats;
    }

    /// <summary>Adds the PM saved in <paramref name="folder"/> to <paramref name="pms"/> as <paramref name="question"/>; returns its statistics.</summary>
    public static TextPmStats Load(HfPreferenceModel pms, string question, string folder)
    {
        pms.Load(question, folder);
        return ReadStats(folder);
    }

    public static TextPmStats ReadStats(string folder)
    {
        var path = Path.Combine(folder, StatsFile);
        try
        {
            return JsonSerializer.Deserialize<TextPmStats>(File.ReadAllBytes(path), RunConfig.Json) ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new InvalidDataException($"{path}: not a preference model's statistics ({e.Message})", e);
        }
    }

    private static List<PreferencePair> Pairs(IReadOnlyList<TextPair> pairs, IReadOnlyList<World.PreferenceLabel> labels) =>
        pairs.Select((p, i) => new PreferencePair(p.SequenceA(), p.SequenceB(), labels[i].PreferA, labels[i].Margin)).ToList();
}
