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
    /// <summary>Trains <paramref name="question"/>'s PM on <paramref name="labels"/>: <see cref="PmQuestions.TrainedOn"/>'s, in its order.</summary>
    public static TrainedPreferenceModel Train(WorldRun ctx, PolicyModel sft, PairSet<SyntheticPrompt> pairs, string question, IReadOnlyList<LabelSet> labels)
    {
        using var trainer = Start(ctx, sft, pairs, question, labels);
        while (!trainer.Done) trainer.RunEpoch();
        return Finish(trainer, pairs, question, labels);
    }

    /// <summary>
    /// The trainer of <paramref name="question"/>'s fresh PM from the SFT trunk, or of one restored from
    /// <paramref name="checkpoint"/> (written by its SaveCheckpoint; InvalidDataException when it does not fit), on every
    /// set of <paramref name="labels"/> (one, or every draw's for the pooled PM) and, for the control PM, the human pairs
    /// as the raters label them (hard labels, no margin) mixed in.
    /// </summary>
    public static PreferenceModelTrainer<PreferenceModel> Start(WorldRun ctx, PolicyModel sft, PairSet<SyntheticPrompt> pairs, string question,
        IReadOnlyList<LabelSet> labels, byte[]? checkpoint = null)
    {
        var train = labels.SelectMany(l => Pairs(pairs.Train, l.Train)).ToList();
        if (PmQuestions.TrainedOn(question, ctx.Config).Human)
            train.AddRange(ScalarizationStage.HumanLabelled(ctx, pairs).Select(h => new PreferencePair(h.A, h.B, h.AWins ? 1 : 0, 0)));
        var trainer = Trainer(ctx, sft, train, question);
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

    /// <summary>The trained PM with its held-out accuracies (against every set of its judge's labels) and score normaliser.</summary>
    public static TrainedPreferenceModel Finish(PreferenceModelTrainer<PreferenceModel> trainer, PairSet<SyntheticPrompt> pairs, string question, IReadOnlyList<LabelSet> labels)
    {
        if (!trainer.Done) throw new InvalidOperationException($"PM {question} has trained {trainer.Epoch} epochs, not all of them");
        var pm = trainer.Model;
        var train = trainer.Pairs;
        var judgeAccuracy = PreferenceModelTraining.Accuracy(pm, [.. labels.SelectMany(l => Pairs(pairs.Test, l.Test))]);
        // A principle's PM against its scorer; the baseline's (its draws, the control, the pooled PM) against what it stands
        // in for: the true preference (a constitution's labels mix many meanings; "overall" is the true preference).
        var truthQuestion = labels.Count == 1 && GroundTruth.Find(labels[0].Question) is not null ? labels[0].Question : Principle.Overall;
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
