using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using static TorchSharp.torch;

namespace Morlaif.Learning.World;

/// <summary>
/// The synthetic world's run context: its word tokenizer, its model shape and its judge, besides the questions and
/// seeds of every run (<see cref="RunContext"/>).
/// </summary>
public sealed class WorldRun(RunConfig config, Device device) : RunContext(config, device), IPromptTokenizer<SyntheticPrompt>
{
    public WordTokenizer Tokenizer { get; } = new(Catalog.AllTexts());

    public TransformerConfig ModelConfig =>
        new(Tokenizer.VocabSize, Config.Model.DModel, Config.Model.Layers, Config.Model.Heads, Config.Model.ContextLength);

    public SyntheticJudge Judge => new(Config.Judge.Sharpness, Config.Judge.PositionBias, Config.Judge.NoiseSd);

    public PolicyModel NewPolicy() => new(ModelConfig);

    public int[] EncodePrompt(SyntheticPrompt prompt) => Tokenizer.EncodePrompt(prompt.Text);

    public string Decode(IEnumerable<int> ids) => Tokenizer.Decode(ids);

    /// <summary>The world's prompt as a one-turn HH-RLHF conversation.</summary>
    public string Conversation(SyntheticPrompt prompt) => $"\n\nHuman: {prompt.Text}\n\nAssistant:";

    /// <summary>The run's response pairs (<see cref="PairSamplingStage"/>), on fresh prompts of the world's distribution.</summary>
    public PairSet<SyntheticPrompt> SamplePairs(PolicyModel sft)
    {
        var c = Config.Pairs;
        return PairSamplingStage.Sample(sft, this, PairPrompts<SyntheticPrompt>.Drawn(rng => Prompts.Sample(rng), new Random(Seed("pairs"))), Config, Device,
            c.Train, c.Test, c.Human, c.Accuracy);
    }

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
