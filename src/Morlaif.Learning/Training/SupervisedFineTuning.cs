using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>SFT hyperparameters. The defaults are the world's: AdamW's decay 0.01, warm-up then cosine decay.</summary>
public sealed record SftSettings(int Epochs = 4, int BatchSize = 64, double LearningRate = 3e-3, double WarmupFraction = 0.05,
    double WeightDecay = 0.01, LrSchedulerType LrSchedulerType = LrSchedulerType.Cosine)
{
    /// <summary>
    /// The Hugging Face path's: trl's weight decay 0 and a constant rate (trl's SFT default schedule is linear decay;
    /// constant keeps a short run's last epoch from learning nothing).
    /// </summary>
    public static SftSettings Constant(int epochs, int batchSize, double learningRate) =>
        new(epochs, batchSize, learningRate, WarmupFraction: 0, WeightDecay: 0, LrSchedulerType: LrSchedulerType.Constant);
}

/// <summary>One demonstration: the ids (the world's "bos prompt sep response eos", a tokenizer's prompt and completion) and where the trained response starts.</summary>
public readonly record struct Demonstration(int[] Ids, int ResponseStart);

/// <summary>
/// An epoch's mean loss two ways: <paramref name="Loss"/> over its steps (each batch's mean weighs the same, as
/// Trainer logs "loss"; the world reports this) and <paramref name="LossPerToken"/> with each trained token counted
/// once (the Hugging Face path reports this: its demonstrations' lengths vary widely).
/// </summary>
public readonly record struct SftEpochLoss(double Loss, double LossPerToken);

/// <summary>
/// Supervised fine-tuning for any model family (<see cref="ISftPolicy"/>): next-token cross-entropy on the response
/// tokens only, AdamW, the settings' learning-rate schedule, the gradient norm clipped to 1, minibatches in an order
/// drawn from the caller's generator each epoch.
/// </summary>
public static class SupervisedFineTuning
{
    /// <param name="rng">draws each epoch's shuffle; the world passes the generator that drew its demonstrations, so its stream continues as it always has</param>
    /// <param name="progress">called after each epoch with (epoch from 1, its losses)</param>
    /// <returns>Each epoch's losses.</returns>
    public static List<SftEpochLoss> Train(ISftPolicy policy, IReadOnlyList<Demonstration> demos, SftSettings s, Random rng,
        Action<int, SftEpochLoss>? progress = null)
    {
        if (demos.Count == 0) throw new ArgumentException("no demonstrations", nameof(demos));
        if (demos.Any(d => d.ResponseStart < 1 || d.ResponseStart >= d.Ids.Length))
            throw new ArgumentException("every demonstration needs a token before its response and at least one response token", nameof(demos));
        var steps = s.Epochs * (int)Math.Ceiling(demos.Count / (double)s.BatchSize);
        var schedule = LearningRateSchedule.For(s.LearningRate, steps, s.WarmupFraction, s.LrSchedulerType);
        var parameters = policy.Trainable;
        using var optimizer = optim.AdamW(parameters, s.LearningRate, weight_decay: s.WeightDecay);
        var losses = new List<SftEpochLoss>();
        var step = 0;
        policy.SetTraining(true);
        try
        {
            for (var epoch = 1; epoch <= s.Epochs; epoch++)
            {
                var (mean, perToken) = optimizer.Epoch(parameters, schedule, ref step, demos.Count, s.BatchSize, rng,
                    chunk => Loss(policy, chunk.Select(i => demos[i]).ToList()));
                losses.Add(new SftEpochLoss(mean, perToken));
                progress?.Invoke(epoch, losses[^1]);
            }
        }
        finally
        {
            policy.SetTraining(false);
        }
        return losses;
    }

    /// <summary>Mean next-token cross-entropy over the response tokens of <paramref name="batch"/> (eos included), and how many there are.</summary>
    public static (Tensor Loss, long Tokens) Loss(ISftPolicy policy, IReadOnlyList<Demonstration> batch) => Scoped.Run(() =>
    {
        var device = policy.Device;
        var b = SequenceBatch.RightPadded(batch.Select(d => d.Ids).ToList(), device);
        var t = b.Tokens.shape[1];
        var targets = new long[batch.Count * (t - 1)];
        long count = 0;
        for (var i = 0; i < batch.Count; i++)
            for (var j = 0; j < t - 1; j++)
            {
                // Position j predicts token j + 1: a target only where that token is the response's (not prompt, not padding).
                var trained = j + 1 >= batch[i].ResponseStart && j + 1 < batch[i].Ids.Length;
                targets[i * (t - 1) + j] = trained ? batch[i].Ids[j + 1] : -100;
                if (trained) count++;
            }
        var logits = policy.Logits(b.Tokens, b.Valid)[.., ..^1];
        var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), tensor(targets, device: device), ignore_index: -100);
        return (loss, count);
    });
}
