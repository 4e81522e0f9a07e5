using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>
/// Seeded weight initialisation that does not touch libtorch's process-wide generator. Two stages in one
/// process (the in-memory pipeline runs several runs and workers at once) used to race between
/// manual_seed and a module's constructor, so a run's SFT policy could depend on what else was running.
/// Draws the same distributions in the same order as TorchSharp's constructors (Linear: Kaiming-uniform
/// weight with a = √5, then a uniform bias; Embedding: standard normal), so the weights equal those of
/// manual_seed(seed) followed by construction. (The draws are the tensors' own: TorchSharp 0.107's
/// nn.init.uniform_ and normal_ ignore their generator argument.)
/// </summary>
public static class Initialization
{
    public static void Reset(Module model, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        Draw(model, generator);
    }

    /// <summary>Depth first, children in registration order: the order the constructors ran in (named_modules is breadth first).</summary>
    private static void Draw(Module module, Generator generator)
    {
        switch (module)
        {
            case Linear linear:
                var fanIn = linear.weight!.shape[1];
                // libtorch's kaiming_uniform_, step by step: gain for leaky_relu(a), std, bound = √3·std.
                var gain = Math.Sqrt(2.0 / (1 + Math.Pow(Math.Sqrt(5), 2)));
                var bound = Math.Sqrt(3.0) * (gain / Math.Sqrt(fanIn));
                linear.weight.uniform_(-bound, bound, generator);
                linear.bias?.uniform_(-1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn), generator);
                break;
            case Embedding embedding:
                embedding.weight!.normal_(0, 1, generator);
                break;
        }
        foreach (var (_, child) in module.named_children()) Draw(child, generator);
    }
}
