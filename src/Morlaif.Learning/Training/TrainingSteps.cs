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

    /// <summary>0..count-1 in an order drawn from <paramref name="rng"/>: one epoch's minibatch order.</summary>
    public static int[] Shuffled(int count, Random rng) => Enumerable.Range(0, count).OrderBy(_ => rng.Next()).ToArray();
}
