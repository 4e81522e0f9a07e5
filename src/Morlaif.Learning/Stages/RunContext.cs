using TorchSharp;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>
/// What every stage of a run derives from its config alone: the tokenizer, the model shape, the judge,
/// the questions asked and the seeds. Any process that holds the config rebuilds the same context.
/// </summary>
public sealed class RunContext(RunConfig config, Device device)
{
    public RunConfig Config { get; } = config;
    public Device Device { get; } = device;
    public WordTokenizer Tokenizer { get; } = new(Catalog.AllTexts());

    public TransformerConfig ModelConfig =>
        new(Tokenizer.VocabSize, Config.Model.DModel, Config.Model.Layers, Config.Model.Heads, Config.Model.ContextLength);

    public SyntheticJudge Judge => new(Config.Judge.Sharpness, Config.Judge.PositionBias, Config.Judge.NoiseSd);

    /// <summary>The MORLAIF principles, then the single-objective baseline's question ("constitution" or "overall").</summary>
    public IReadOnlyList<string> Questions => [.. Config.Principles, Config.Baseline];

    /// <summary>A seed per purpose, so changing one stage's sizes does not reshuffle another stage's data.</summary>
    public int Seed(params object[] purpose) => Seeds.Derive(Config.Seed, purpose);

    public PolicyModel NewPolicy() => new(ModelConfig);

    /// <summary>A policy saved by <see cref="PolicyModel.ToBytes"/>, on this run's device; InvalidDataException when it is not this run's shape.</summary>
    public PolicyModel LoadPolicy(byte[] checkpoint)
    {
        var policy = PolicyModel.FromBytes(checkpoint, Device);
        if (policy.Config != ModelConfig)
        {
            policy.Dispose();
            throw new InvalidDataException($"the policy checkpoint is a {policy.Config}, this run's model is a {ModelConfig}");
        }
        return policy;
    }
}
