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

    /// <summary>
    /// The trainer of <paramref name="labels"/>' question's PM, a fresh adapter and head on <paramref name="pms"/>, restored
    /// from <paramref name="checkpoint"/> when one is given; and the fresh PM's loss on its training labels (the report's
    /// "loss before", the same whether or not the training resumes).
    /// </summary>
    public static (PreferenceModelTrainer<IPreferenceScorer> Trainer, double InitialLoss) Start(TextRun run, HfPreferenceModel pms, PairSet<string> pairs,
        LabelSet labels, byte[]? checkpoint = null)
    {
        var question = labels.Question;
        if (labels.Train.Count != pairs.Train.Count || labels.Test.Count != pairs.Test.Count)
            throw new InvalidDataException($"labels of '{question}' cover {labels.Train.Count}+{labels.Test.Count} pairs, the run has {pairs.Train.Count}+{pairs.Test.Count}");
        pms.AddPrinciple(question, run.PmLora(pms.Lora.Config), run.Seed("pm-init", question));
        var c = run.Config.PreferenceModel;
        var train = Pairs(pairs.Train, labels.Train);
        var trainer = new PreferenceModelTrainer<IPreferenceScorer>(pms.Principle(question), train, new PmSettings(c.Epochs, c.BatchSize, c.LearningRate),
            run.Seed("pm", question));
        try
        {
            var initial = PreferenceModelTraining.Loss(trainer.Model, train);
            if (checkpoint is not null) trainer.LoadCheckpoint(checkpoint);
            return (trainer, initial);
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The trained PM's statistics (its held-out accuracy, its normaliser); writes it to <paramref name="folder"/> as a PEFT
    /// SEQ_CLS folder with <see cref="StatsFile"/>.
    /// </summary>
    public static TextPmStats Finish(HfPreferenceModel pms, PreferenceModelTrainer<IPreferenceScorer> trainer, double initialLoss, PairSet<string> pairs,
        LabelSet labels, string folder)
    {
        var question = labels.Question;
        if (!trainer.Done) throw new InvalidOperationException($"PM {question} has trained {trainer.Epoch} epochs, not all of them");
        var pm = trainer.Model;
        var train = trainer.Pairs;
        var normalizer = ScoreNormalizer.Fit(pm.ScoreAll([.. train.Select(p => p.A), .. train.Select(p => p.B)]));
        var stats = new TextPmStats(question, train.Count, initialLoss, PreferenceModelTraining.Loss(pm, train),
            PreferenceModelTraining.Accuracy(pm, Pairs(pairs.Test, labels.Test)), normalizer);
        pms.Save(question, folder);
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

    private static List<PreferencePair> Pairs(IReadOnlyList<ResponsePair<string>> pairs, IReadOnlyList<World.PreferenceLabel> labels) =>
        pairs.Select((p, i) => new PreferencePair(p.SequenceA(), p.SequenceB(), labels[i].PreferA, labels[i].Margin)).ToList();
}
