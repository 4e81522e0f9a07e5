using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

public sealed record HfSftSettings(int Epochs = 1, int BatchSize = 8, double LearningRate = 2e-5, double WeightDecay = 0.0, long Seed = 1);

/// <summary>
/// Supervised fine-tuning of a Hugging Face causal LM on demonstrations (<see cref="Demonstration"/>: ids and where
/// the trained part starts): next-token cross-entropy on the tokens from ResponseStart on, the prompt's tokens
/// masked out of the loss, AdamW with the gradient norm clipped to 1 and a constant learning rate (TRL's SFT
/// default schedule is linear decay; constant keeps a short run's last epoch from learning nothing).
/// </summary>
public static class HfSupervisedFineTuning
{
    /// <param name="progress">called after each epoch with (epoch from 1, mean loss per trained token of that epoch)</param>
    /// <param name="trainable">what the optimizer updates: every parameter of the model unless given (a LoRA adapter's A and B)</param>
    /// <returns>The mean loss of each epoch.</returns>
    public static List<double> Train(HfCausalLm model, IReadOnlyList<Demonstration> demos, HfSftSettings s, Action<int, double>? progress = null,
        IReadOnlyList<TorchSharp.Modules.Parameter>? trainable = null)
    {
        if (demos.Count == 0) throw new ArgumentException("no demonstrations", nameof(demos));
        if (demos.Any(d => d.ResponseStart < 1 || d.ResponseStart >= d.Ids.Length))
            throw new ArgumentException("every demonstration needs a token before its response and at least one response token", nameof(demos));
        var rng = new Random(checked((int)s.Seed));
        var parameters = trainable ?? model.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, s.LearningRate, weight_decay: s.WeightDecay);
        var losses = new List<double>();
        model.train();
        try
        {
            for (var epoch = 1; epoch <= s.Epochs; epoch++)
            {
                double sum = 0;
                long tokens = 0;
                foreach (var chunk in TrainingSteps.Shuffled(demos.Count, rng).Chunk(s.BatchSize))
                {
                    using var scope = NewDisposeScope();
                    var batch = chunk.Select(i => demos[i]).ToList();
                    var (loss, count) = Loss(model, batch);
                    optimizer.ClippedStep(parameters, loss);
                    sum += loss.item<float>() * count;
                    tokens += count;
                }
                losses.Add(sum / tokens);
                progress?.Invoke(epoch, sum / tokens);
            }
        }
        finally
        {
            model.eval();
        }
        return losses;
    }

    /// <summary>
    /// One example's ids: the tokenizer's prefix (BOS where its files say so), the prompt, the completion and EOS,
    /// each part encoded on its own (as TRL's prompt-completion collator does), cut to <paramref name="maxLength"/>
    /// from the end. Null when the prompt leaves no room for a completion token. With an empty prompt (plain text)
    /// everything after the first token is trained on.
    /// </summary>
    public static Demonstration? Demonstrate(Tokenization.PreTrainedTokenizer tokenizer, string prompt, string completion, int maxLength)
    {
        var ids = tokenizer.EncodeCompleted(prompt, completion);
        var start = Math.Max(1, tokenizer.EncodePrompt(prompt).Length);
        if (ids.Length > maxLength) ids = ids[..maxLength];
        return start < ids.Length ? new Demonstration(ids, start) : null;
    }

    /// <summary>Mean next-token cross-entropy over the response tokens of <paramref name="batch"/>, and how many there are.</summary>
    public static (Tensor Loss, long Tokens) Loss(HfCausalLm model, IReadOnlyList<Demonstration> batch) => Scoped.Run(() =>
    {
        var device = model.parameters().First().device;
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
        var logits = model.Forward(b.Tokens, b.Valid)[.., ..^1].to(ScalarType.Float32);
        var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), tensor(targets, device: device), ignore_index: -100);
        return (loss, count);
    });
}
