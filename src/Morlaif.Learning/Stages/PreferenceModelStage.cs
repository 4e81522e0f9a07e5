using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>
/// Trains one question's PM from the SFT policy and measures it on the held-out pairs. In parts, so a
/// worker can checkpoint between epochs: <see cref="Start"/>, the trainer's epochs, <see cref="Finish"/>.
/// </summary>
public static class PreferenceModelStage
{
    public static TrainedPreferenceModel Train(WorldRun ctx, PolicyModel sft, PairSet<SyntheticPrompt> pairs, LabelSet labels)
    {
        using var trainer = Start(ctx, sft, pairs, labels);
        while (!trainer.Done) trainer.RunEpoch();
        return Finish(trainer, pairs, labels);
    }

    /// <summary>
    /// The trainer of a fresh PM from the SFT trunk, or of one restored from <paramref name="checkpoint"/>
    /// (written by its SaveCheckpoint; InvalidDataException when it does not fit). Labels whose question is the control
    /// PM's (<see cref="ScalarizationStage.ControlQuestion"/>, the baseline's labels renamed) train the control PM: the
    /// baseline's AI labels and, mixed in, the human pairs as the raters label them (hard labels, no margin).
    /// </summary>
    public static PreferenceModelTrainer<PreferenceModel> Start(WorldRun ctx, PolicyModel sft, PairSet<SyntheticPrompt> pairs, LabelSet labels, byte[]? checkpoint = null)
    {
        var train = Pairs(pairs.Train, labels.Train);
        if (ScalarizationStage.AskedQuestion(labels.Question) != labels.Question)
            train.AddRange(ScalarizationStage.HumanLabelled(ctx, pairs).Select(h => new PreferencePair(h.A, h.B, h.AWins ? 1 : 0, 0)));
        var trainer = Trainer(ctx, sft, train, labels.Question);
        if (checkpoint is null) return trainer;
        try
        {
            trainer.LoadCheckpoint(checkpoint);
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>A fresh PM from the SFT trunk on <paramref name="train"/>, seeded by its question.</summary>
    private static PreferenceModelTrainer<PreferenceModel> Trainer(WorldRun ctx, PolicyModel sft, IReadOnlyList<PreferencePair> train, string question)
    {
        var c = ctx.Config.PreferenceModel;
        return new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(sft), train, new PmSettings(c.Epochs, c.BatchSize, c.LearningRate), ctx.Seed("pm", question));
    }

    /// <summary>The trained PM with its held-out accuracies and score normaliser.</summary>
    public static TrainedPreferenceModel Finish(PreferenceModelTrainer<PreferenceModel> trainer, PairSet<SyntheticPrompt> pairs, LabelSet labels)
    {
        if (!trainer.Done) throw new InvalidOperationException($"PM {labels.Question} has trained {trainer.Epoch} epochs, not all of them");
        var question = labels.Question;
        var pm = trainer.Model;
        var train = trainer.Pairs;
        var judgeAccuracy = PreferenceModelTraining.Accuracy(pm, Pairs(pairs.Test, labels.Test));
        // A principle's PM against its scorer; the constitution's, whose labels mix many meanings, against what it stands in for: the true preference.
        var asked = ScalarizationStage.AskedQuestion(question);
        var truthQuestion = asked == Constitution.Question ? Principle.Overall : asked;
        var truth = pairs.Test
            .Select(p => (p, d: GroundTruth.Score(truthQuestion, p.Prompt, p.TextA) - GroundTruth.Score(truthQuestion, p.Prompt, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9)
            .Select(x => new PreferencePair(x.p.SequenceA(), x.p.SequenceB(), x.d > 0 ? 1 : 0, 0)).ToList();
        var truthAccuracy = PreferenceModelTraining.Accuracy(pm, truth);

        var normalizer = ScoreNormalizer.Fit(pm.ScoreAll([.. train.Select(p => p.A), .. train.Select(p => p.B)]));
        return new TrainedPreferenceModel(question, pm, normalizer,
            new PreferenceModelStats(judgeAccuracy, truthAccuracy, trainer.LastEpochLoss, normalizer.Mean, normalizer.Std));
    }

    private static List<PreferencePair> Pairs(IReadOnlyList<ResponsePair<SyntheticPrompt>> pairs, IReadOnlyList<PreferenceLabel> labels) =>
        pairs.Select((p, i) => new PreferencePair(p.SequenceA(), p.SequenceB(), labels[i].PreferA, labels[i].Margin)).ToList();
}
