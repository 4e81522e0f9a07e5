using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.Training;

public class PreferenceModelLearningTests
{
    [Fact]
    public void Sft_lowers_the_demonstration_loss()
    {
        var rng = new Random(5);
        var demos = Prompts.Sample(rng, 600).Select(p => Tiny.Tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)))
            .Select(x => new Demonstration(x.Ids, x.ResponseStart)).ToList();
        var policy = Tiny.Policy(5);
        float Loss()
        {
            using var _ = TorchSharp.torch.no_grad();
            using var loss = SupervisedFineTuning.Loss(policy, demos).Loss;
            return loss.item<float>();
        }
        var before = Loss();
        SupervisedFineTuning.Train(policy, demos, new SftSettings(Epochs: 6, BatchSize: 32, LearningRate: 3e-3), rng);
        var after = Loss();
        Assert.True(after < before * 0.6, $"loss {before:F3} -> {after:F3}");
    }

    [Fact]
    public void A_preference_model_learns_a_known_principle_well_above_chance()
    {
        // Trained on conciseness labels from the noisy, position-biased judge; tested against the ground truth. Over four
        // seeds (data, initialisation and order), so the margin holds on any CPU's float trajectory, not one run's.
        var accuracies = new[] { 6, 7, 8, 9 }.Select(seed =>
        {
            var rng = new Random(seed);
            var judge = new SyntheticJudge();
            PreferencePair Make(bool truth)
            {
                var p = Prompts.Sample(rng);
                string a = Demonstrator.Respond(p, rng), b = Demonstrator.Respond(p, rng);
                double sa = GroundTruth.Score("conciseness", p, a), sb = GroundTruth.Score("conciseness", p, b);
                var label = truth ? new PreferenceLabel(sa > sb ? 1 : sa < sb ? 0 : 0.5, 0, false) : judge.Label(sa, sb, rng);
                return new PreferencePair(Tiny.Tokenizer.EncodePair(p.Text, a).Ids, Tiny.Tokenizer.EncodePair(p.Text, b).Ids, label.PreferA, label.Margin);
            }
            var train = Enumerable.Range(0, 800).Select(_ => Make(truth: false)).ToList();
            var test = Enumerable.Range(0, 200).Select(_ => Make(truth: true)).ToList();
            var pm = PreferenceModel.FromPolicy(Tiny.Policy(seed));
            var before = PreferenceModelTraining.Accuracy(pm, test);
            PreferenceModelTraining.Train(pm, train, new PmSettings(Epochs: 3, BatchSize: 32, LearningRate: 1e-3), seed: seed);
            return (Before: before, After: PreferenceModelTraining.Accuracy(pm, test));
        }).ToList();
        var report = string.Join(", ", accuracies.Select(a => $"{a.Before:F3} -> {a.After:F3}"));
        // Measured here: 0.698, 0.781, 0.761, 0.801 (mean 0.760) from about 0.5 untrained.
        Assert.True(accuracies.Average(a => a.After) > 0.70 && accuracies.All(a => a.After > 0.62), $"held-out accuracy {report}");
    }
}
