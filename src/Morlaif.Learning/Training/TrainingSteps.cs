using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>The step every trainer here takes (SFT, PM, PPO), so the clipping rule lives in one place.</summary>
internal static class TrainingSteps
{
    public static void SetLearningRate(this optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Backpropagates <paramref name="loss"/> and steps, with the gradient's global norm clipped to 1.</summary>
    public static void ClippedStep(this optim.Optimizer optimizer, nn.Module model, Tensor loss) =>
        optimizer.ClippedStep(model.parameters(), loss);

    /// <summary>The same step, clipping only <paramref name="parameters"/> (what a LoRA trainer trains: adapter and head, not the frozen base).</summary>
    public static void ClippedStep(this optim.Optimizer optimizer, IEnumerable<TorchSharp.Modules.Parameter> parameters, Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(parameters, 1.0);
        optimizer.step();
    }

    /// <summary>
    /// One epoch of minibatch steps, as every trainer here takes them: <paramref name="count"/> examples in an order drawn
    /// from <paramref name="rng"/>, in batches of <paramref name="batchSize"/>; each batch's loss (and a weight, such as
    /// its token count) from <paramref name="lossOf"/>, then a clipped step at the schedule's learning rate for
    /// <paramref name="step"/>, which advances. Returns the mean loss over the steps and the weight-averaged loss.
    /// </summary>
    public static (double Mean, double Weighted) Epoch(this optim.Optimizer optimizer, IReadOnlyList<TorchSharp.Modules.Parameter> parameters,
        LearningRateSchedule schedule, ref int step, int count, int batchSize, Random rng, Func<int[], (Tensor Loss, long Weight)> lossOf)
    {
        double sum = 0, weighted = 0;
        long weights = 0;
        var batches = 0;
        foreach (var chunk in Shuffled(count, rng).Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            optimizer.SetLearningRate(schedule.At(step++));
            var (loss, weight) = lossOf(chunk);
            optimizer.ClippedStep(parameters, loss);
            var l = loss.item<float>();
            sum += l;
            weighted += l * weight;
            weights += weight;
            batches++;
        }
        return (sum / batches, weighted / weights);
    }

    /// <summary>0..count-1 in an order drawn from <paramref name="rng"/>: one epoch's minibatch order.</summary>
    public static int[] Shuffled(int count, Random rng) => Enumerable.Range(0, count).OrderBy(_ => rng.Next()).ToArray();
}
