using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

public sealed record SftSettings(int Epochs = 4, int BatchSize = 64, double LearningRate = 3e-3, double WarmupFraction = 0.05);

/// <summary>One demonstration: "bos prompt sep response eos" and where the response starts.</summary>
public readonly record struct Demonstration(int[] Ids, int ResponseStart);

/// <summary>Supervised fine-tuning: next-token cross-entropy on the response tokens only.</summary>
public static class SupervisedFineTuning
{
    /// <returns>The mean loss of the last epoch.</returns>
    public static double Train(PolicyModel policy, IReadOnlyList<Demonstration> demos, SftSettings s, Random rng)
    {
        policy.train();
        var steps = s.Epochs * (int)Math.Ceiling(demos.Count / (double)s.BatchSize);
        var schedule = LearningRateSchedule.For(s.LearningRate, steps, s.WarmupFraction);
        using var optimizer = optim.AdamW(policy.parameters(), s.LearningRate, weight_decay: 0.01);
        var step = 0;
        var lastEpoch = 0.0;
        for (var epoch = 0; epoch < s.Epochs; epoch++)
        {
            var order = TrainingSteps.Shuffled(demos.Count, rng);
            double sum = 0;
            var batches = 0;
            foreach (var chunk in order.Chunk(s.BatchSize))
            {
                using var scope = NewDisposeScope();
                optimizer.SetLearningRate(schedule.At(step++));
                var loss = Loss(policy, chunk.Select(i => demos[i]).ToList());
                optimizer.ClippedStep(policy, loss);
                sum += loss.item<float>();
                batches++;
            }
            lastEpoch = sum / batches;
        }
        return lastEpoch;
    }

    /// <summary>Mean next-token cross-entropy over response tokens (eos included).</summary>
    public static Tensor Loss(PolicyModel policy, IReadOnlyList<Demonstration> batch) => Scoped.Run(() =>
    {
        var device = policy.parameters().First().device;
        var seqs = batch.Select(d => d.Ids).ToList();
        var b = SequenceBatch.RightPadded(seqs, device);
        var t = b.Tokens.shape[1];
        var targets = new long[batch.Count * (t - 1)];
        for (var i = 0; i < batch.Count; i++)
            for (var j = 0; j < t - 1; j++)
            {
                var target = j + 1;
                targets[i * (t - 1) + j] = target >= batch[i].ResponseStart && target < batch[i].Ids.Length ? batch[i].Ids[target] : -100;
            }
        var logits = policy.Logits(b.Tokens, b.Valid)[.., ..^1];
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), tensor(targets, device: device), ignore_index: -100);
    });
}
