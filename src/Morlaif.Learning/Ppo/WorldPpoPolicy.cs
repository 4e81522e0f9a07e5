using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// The synthetic world's policy for PPO: the whole <see cref="PolicyModel"/> (value head included) is trained, and a
/// frozen copy of the SFT policy is the reference. Owns both; its checkpoint is the policy's state_dict. For a
/// critic-free algorithm the value head, part of the world's model, is left out of what is trained (it stays at zero).
/// </summary>
public sealed class WorldPpoPolicy : IPpoPolicy
{
    private readonly PolicyModel _reference;
    private bool _taken;

    public WorldPpoPolicy(PolicyModel policy, PolicyModel reference, bool valueHead = true)
    {
        Model = policy;
        _reference = reference;
        _reference.eval();
        foreach (var p in _reference.parameters()) p.requires_grad = false;
        Trainable = policy.named_parameters().Where(p => valueHead || !p.name.StartsWith(ValueHeadPrefix, StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => p.parameter);
    }

    private const string ValueHeadPrefix = "value_head.";

    public PolicyModel Model { get; }

    public Device Device => Model.parameters().First().device;

    public IReadOnlyDictionary<string, Parameter> Trainable { get; }

    public IReadOnlyDictionary<string, Tensor> State => Model.state_dict();

    public List<int[]> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator) =>
        Model.Generate(prompts, maxNewTokens, generator);

    public Tensor Logits(Tensor tokens, Tensor valid) => Model.Logits(tokens, valid);

    public List<int[]> GenerateReference(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator) => _reference.Generate(prompts, maxNewTokens, generator);

    public (Tensor Logits, Tensor Values) LogitsAndValues(Tensor tokens, Tensor valid) => Model.LogitsAndValues(tokens, valid);

    public Tensor ReferenceLogits(Tensor tokens, Tensor valid) => _reference.Logits(tokens, valid);

    public void SetTraining(bool training)
    {
        if (training) Model.train();
        else Model.eval();
    }

    /// <summary>Reads only the trained policy (with its value head) out of a learner checkpoint into <paramref name="model"/>, e.g. to evaluate it.</summary>
    public static void LoadModel(byte[] checkpoint, PolicyModel model)
    {
        using var c = Checkpoint.FromBytes(checkpoint, PpoLearner.CheckpointKind);
        c.LoadModule(model);
    }

    /// <summary>The trained policy, for the caller to keep (and dispose): disposing this no longer frees it.</summary>
    public PolicyModel Take()
    {
        _taken = true;
        return Model;
    }

    public void Dispose()
    {
        _reference.Dispose();
        if (!_taken) Model.Dispose();
    }
}
