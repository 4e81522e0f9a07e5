using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// Trains one principle's PM of an <see cref="HfPreferenceModel"/> as the project's own PM training does
/// (<see cref="PreferenceModelTrainer"/>): the Bradley-Terry loss with margin (the same function), AdamW with weight decay 0.01,
/// warmup then decay, the gradient norm clipped to 1, A and B of a pair in one batch, each epoch's order seeded from
/// (seed, epoch). Only the adapter and its head are trained; the base stays frozen.
/// </summary>
public static class HfPreferenceTraining
{
    /// <returns>The mean loss of the last epoch.</returns>
    public static double Train(HfPreferenceModel pm, string principle, IReadOnlyList<PreferencePair> pairs, PmSettings s, long seed)
    {
        if (pairs.Count == 0) throw new ArgumentException("no preference pairs to train on", nameof(pairs));
        var trainable = pm.Trainable(principle);
        var device = trainable[0].device;
        var stepsPerEpoch = (int)Math.Ceiling(pairs.Count / (double)s.BatchSize);
        var schedule = LearningRateSchedule.For(s.LearningRate, s.Epochs * stepsPerEpoch, s.WarmupFraction);
        using var optimizer = optim.AdamW(trainable, s.LearningRate, weight_decay: 0.01);
        var model = pm.Lora.Model;
        var wasTraining = model.training;
        model.train();
        double last = double.NaN;
        var step = 0;
        try
        {
            for (var epoch = 0; epoch < s.Epochs; epoch++)
            {
                var order = TrainingSteps.Shuffled(pairs.Count, new Random(Seeds.Derive(seed, "hf-pm-epoch", epoch)));
                double sum = 0;
                var batches = 0;
                foreach (var chunk in order.Chunk(s.BatchSize))
                {
                    using var scope = NewDisposeScope();
                    optimizer.SetLearningRate(schedule.At(step++));
                    var batch = chunk.Select(i => pairs[i]).ToList();
                    var b = SequenceBatch.LeftPadded([.. batch.Select(p => p.A), .. batch.Select(p => p.B)], device);
                    var r = pm.Score(principle, b.Tokens, b.Valid);
                    var n = batch.Count;
                    var loss = PreferenceModelTraining.BradleyTerryLoss(r[..n], r[n..],
                        tensor(batch.Select(p => (float)p.PreferA).ToArray(), device: device),
                        tensor(batch.Select(p => (float)p.Margin).ToArray(), device: device));
                    optimizer.ClippedStep(trainable, loss);
                    sum += loss.item<float>();
                    batches++;
                }
                last = sum / batches;
            }
        }
        finally
        {
            if (!wasTraining) model.eval();
        }
        return last;
    }

    /// <summary>The mean Bradley-Terry loss (with margin) of <paramref name="principle"/>'s PM on <paramref name="pairs"/>, without training.</summary>
    public static double Loss(HfPreferenceModel pm, string principle, IReadOnlyList<PreferencePair> pairs)
    {
        if (pairs.Count == 0) return double.NaN;
        var a = pm.Score(principle, pairs.Select(p => p.A).ToList());
        var b = pm.Score(principle, pairs.Select(p => p.B).ToList());
        using var scope = NewDisposeScope();
        var loss = PreferenceModelTraining.BradleyTerryLoss(tensor(a.Select(x => (float)x).ToArray()), tensor(b.Select(x => (float)x).ToArray()),
            tensor(pairs.Select(p => (float)p.PreferA).ToArray()), tensor(pairs.Select(p => (float)p.Margin).ToArray()));
        return loss.item<float>();
    }

    /// <summary>Fraction of hard-labelled pairs on which <paramref name="principle"/>'s PM agrees with the label.</summary>
    public static double Accuracy(HfPreferenceModel pm, string principle, IReadOnlyList<PreferencePair> pairs)
    {
        var decided = pairs.Where(p => p.PreferA != 0.5).ToList();
        if (decided.Count == 0) return double.NaN;
        var a = pm.Score(principle, decided.Select(p => p.A).ToList());
        var b = pm.Score(principle, decided.Select(p => p.B).ToList());
        return decided.Select((p, i) => (a[i] > b[i]) == (p.PreferA > 0.5) ? 1.0 : 0.0).Average();
    }
}
