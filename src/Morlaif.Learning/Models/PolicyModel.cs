using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>The policy: a decoder-only language model, with a value head for PPO on the same trunk.</summary>
public sealed class PolicyModel : Module
{
    private readonly TransformerTrunk trunk;
    private readonly Linear lm_head;
    private readonly Linear value_head;

    public PolicyModel(TransformerConfig config) : base(nameof(PolicyModel))
    {
        trunk = new TransformerTrunk(config);
        lm_head = Linear(config.DModel, config.VocabSize, hasBias: false);
        value_head = Linear(config.DModel, 1);
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
    public Tensor Logits(Tensor tokens, Tensor valid, KvCache? cache = null) =>
        lm_head.forward(trunk.Forward(tokens, valid, cache));

    /// <summary>Next-token logits [B, T, V] and value estimates [B, T].</summary>
    public (Tensor Logits, Tensor Values) LogitsAndValues(Tensor tokens, Tensor valid)
    {
        var h = trunk.Forward(tokens, valid);
        return (lm_head.forward(h), value_head.forward(h).squeeze(-1));
    }

    public PolicyModel Clone()
    {
        var copy = new PolicyModel(Config);
        ModuleWeights.Copy(this, copy);
        return copy;
    }
}
