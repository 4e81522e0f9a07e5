using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.Training;

public class PreferenceModelTrainerTests
{
    private static List<PreferencePair> Pairs()
    {
        var rng = new Random(8);
        return Enumerable.Range(0, 96).Select(_ =>
        {
            var p = Prompts.Sample(rng);
            string a = Demonstrator.Respond(p, rng), b = Demonstrator.Respond(p, rng);
            var prefer = GroundTruth.Score("conciseness", p, a) > GroundTruth.Score("conciseness", p, b) ? 1 : 0;
            return new PreferencePair(Tiny.Tokenizer.EncodePair(p.Text, a).Ids, Tiny.Tokenizer.EncodePair(p.Text, b).Ids, prefer, 0.5);
        }).ToList();
    }

    [Fact]
    public void A_trainer_resumed_from_an_epoch_checkpoint_ends_with_the_weights_of_the_uninterrupted_one()
    {
        var pairs = Pairs();
        var settings = new PmSettings(Epochs: 3, BatchSize: 32, LearningRate: 3e-3);
        var sft = Tiny.Policy(8);

        var uninterrupted = PreferenceModel.FromPolicy(sft);
        var expectedLoss = PreferenceModelTraining.Train(uninterrupted, pairs, settings, seed: 42);

        // Train one epoch, checkpoint, and throw the trainer away (the worker died); a new one resumes.
        byte[] checkpoint;
        using (var first = new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(sft), pairs, settings, seed: 42))
        {
            first.RunEpoch();
            checkpoint = first.SaveCheckpoint();
        }
        var resumed = PreferenceModel.FromPolicy(sft);
        using var second = new PreferenceModelTrainer<PreferenceModel>(resumed, pairs, settings, seed: 42);
        second.LoadCheckpoint(checkpoint);
        Assert.Equal(1, second.Epoch);
        while (!second.Done) second.RunEpoch();

        Assert.Equal(expectedLoss, second.LastEpochLoss, 6);
        // Byte for byte: two more epochs from restored AdamW moments and step counts, as in the uninterrupted run.
        Assert.Equal(Tiny.Weights(uninterrupted), Tiny.Weights(resumed));
    }

    [Fact]
    public void A_checkpoint_for_other_settings_is_refused_with_its_reason()
    {
        var pairs = Pairs();
        var sft = Tiny.Policy(9);
        using var trainer = new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(sft), pairs, new PmSettings(Epochs: 2, BatchSize: 32), seed: 1);
        trainer.RunEpoch();
        var checkpoint = trainer.SaveCheckpoint();

        using var other = new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(sft), pairs, new PmSettings(Epochs: 2, BatchSize: 16), seed: 1);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(checkpoint));
        Assert.Contains("does not fit", e.Message);
        var notOne = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint("junk"u8.ToArray()));
        Assert.Contains("not a MORLAIF pm-trainer checkpoint", notOne.Message);
        var otherKind = Assert.Throws<InvalidDataException>(() => other.LoadCheckpoint(sft.ToBytes()));
        Assert.Contains("it is a 'policy' checkpoint", otherKind.Message);
    }
}
