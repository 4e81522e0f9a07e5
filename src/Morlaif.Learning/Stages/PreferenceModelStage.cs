using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>Trains one question's PM from the SFT policy and measures it on the held-out pairs.</summary>
public static class PreferenceModelStage
{
    public static TrainedPreferenceModel Train(RunContext ctx, PolicyModel sft, PairSet pairs, LabelSet labels)
    {
        var question = labels.Question;
        var pm = PreferenceModel.FromPolicy(sft);
        var train = pairs.Train.Select((p, i) => new PreferencePair(p.SequenceA(), p.SequenceB(), labels.Train[i].PreferA, labels.Train[i].Margin)).ToList();
        var c = ctx.Config.PreferenceModel;
        var loss = PreferenceModelTraining.Train(pm, train, new PmSettings(c.Epochs, c.BatchSize, c.LearningRate), new Random(ctx.Seed("pm", question)));

        var heldOut = pairs.Test.Select((p, i) => new PreferencePair(p.SequenceA(), p.SequenceB(), labels.Test[i].PreferA, labels.Test[i].Margin)).ToList();
        var judgeAccuracy = PreferenceModelTraining.Accuracy(pm, heldOut);
        var truth = pairs.Test
            .Select(p => (p, d: GroundTruth.Score(question, p.Prompt, p.TextA) - GroundTruth.Score(question, p.Prompt, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9)
            .Select(x => new PreferencePair(x.p.SequenceA(), x.p.SequenceB(), x.d > 0 ? 1 : 0, 0)).ToList();
        var truthAccuracy = PreferenceModelTraining.Accuracy(pm, truth);

        var normalizer = ScoreNormalizer.Fit(PreferenceModelTraining.Score(pm, [.. train.Select(p => p.A), .. train.Select(p => p.B)]));
        return new TrainedPreferenceModel(question, pm, normalizer,
            new PreferenceModelStats(judgeAccuracy, truthAccuracy, loss, normalizer.Mean, normalizer.Std));
    }
}
