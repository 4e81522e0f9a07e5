using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests;

/// <summary>
/// Tests that change libtorch's process-wide state (its global generator, its default device) run alone,
/// after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(ProcessWideTorchState), DisableParallelization = true)]
public sealed class ProcessWideTorchState;

/// <summary>Small shared pieces for tests that build models.</summary>
internal static class Tiny
{
    public static readonly WordTokenizer Tokenizer = new(Catalog.AllTexts());

    public static TransformerConfig Config(int dModel = 32, int layers = 1, int heads = 2, int context = 80) =>
        new(Tokenizer.VocabSize, dModel, layers, heads, context);

    public static PolicyModel Policy(long seed, int dModel = 32, int layers = 1) => PolicyModel.Initialized(Config(dModel, layers), seed);

    /// <summary>Every state_dict entry's bytes, in one array: equal arrays are bit-identical weights.</summary>
    public static byte[] Weights(TorchSharp.torch.nn.Module module)
    {
        using var c = new Checkpoint("weights");
        c.AddModule(module);
        return c.ToBytes();
    }
}
