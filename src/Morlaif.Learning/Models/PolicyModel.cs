using Morlaif.Learning.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>The policy: a decoder-only language model, with a value head for PPO on the same trunk.</summary>
public sealed class PolicyModel : Module, Training.ISftPolicy, Ppo.IGenerativePolicy
{
    private readonly TransformerTrunk trunk;
    private readonly Linear lm_head;
    private readonly Linear value_head;

    public PolicyModel(TransformerConfig config) : base(nameof(PolicyModel))
    {
        trunk = new TransformerTrunk(config);
        lm_head = Linear(config.DModel, config.VocabSize, hasBias: false, device: CPU);
        value_head = Linear(config.DModel, 1, device: CPU);
        RegisterComponents();
        ZeroValueHead();
    }

    /// <summary>A fresh policy whose weights depend on <paramref name="seed"/> alone (see <see cref="Initialization"/>).</summary>
    public static PolicyModel Initialized(TransformerConfig config, long seed)
    {
        var policy = new PolicyModel(config);
        Initialization.Reset(policy, seed);
        policy.ZeroValueHead();
        return policy;
    }

    /// <summary>A zero value head starts PPO from V = 0 rather than from noise.</summary>
    private void ZeroValueHead()
    {
        using var _ = no_grad();
        value_head.weight!.zero_();
        value_head.bias!.zero_();
    }

    public TransformerConfig Config => trunk.Config;

    public TransformerTrunk Trunk => trunk;

    /// <summary>Next-token logits [B, T, V].</summary>
    public Tensor Logits(Tensor tokens, Tensor valid, KvCache? cache = null) => Scoped.Run(() =>
    {
        if (cache is not null) return lm_head.forward(trunk.Forward(tokens, valid, cache));
        // The vocabulary-wide head on the real tokens only (zero logits at the padding, which no loss reads).
        var (h, unpadded) = trunk.Hidden(tokens, valid);
        var logits = lm_head.forward(h);
        return unpadded?.Unpack(logits) ?? logits;
    });

    public Device Device => parameters().First().device;

    public List<int[]> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator) => Sampler.Generate(this, prompts, maxNewTokens, generator);

    Tensor Training.ISftPolicy.Logits(Tensor tokens, Tensor valid) => Logits(tokens, valid);

    /// <summary>SFT trains the whole policy, in parameters() order (the value head too, though no SFT loss reaches it).</summary>
    IReadOnlyList<Parameter> Training.ISftPolicy.Trainable => parameters().ToList();

    void Training.ISftPolicy.SetTraining(bool training)
    {
        if (training) train();
        else eval();
    }

    /// <summary>Next-token logits [B, T, V] and value estimates [B, T].</summary>
    public (Tensor Logits, Tensor Values) LogitsAndValues(Tensor tokens, Tensor valid) => Scoped.Run(() =>
    {
        var (h, unpadded) = trunk.Hidden(tokens, valid);
        var (logits, values) = (lm_head.forward(h), value_head.forward(h));
        return unpadded is null ? (logits, values.squeeze(-1)) : (unpadded.Unpack(logits), unpadded.Unpack(values).squeeze(-1));
    });

    /// <summary>A copy with these weights, on this policy's device.</summary>
    public PolicyModel Clone()
    {
        var copy = new PolicyModel(Config);
        copy.to(parameters().First().device);
        copy.load_state_dict(state_dict());
        return copy;
    }

    /// <summary>The checkpoint kind of a policy on its own (the SFT policy): its state_dict and <see cref="TransformerConfig"/>.</summary>
    public const string CheckpointKind = "policy";

    public byte[] ToBytes() => Checkpoint.Save(CheckpointKind, this, Config);

    /// <summary>A policy from <see cref="ToBytes"/>, on <paramref name="device"/>.</summary>
    public static PolicyModel FromBytes(byte[] bytes, Device device)
    {
        using var c = Checkpoint.FromBytes(bytes, CheckpointKind);
        var config = c.GetState<TransformerConfig>();
        var policy = new PolicyModel(config);
        policy.to(device);
        c.LoadModule(policy);
        return policy;
    }
}
