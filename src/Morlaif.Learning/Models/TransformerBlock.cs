using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>Pre-norm transformer block: attention then MLP, each with a residual connection.</summary>
public sealed class TransformerBlock : Module
{
    private readonly LayerNorm ln1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln2;
    private readonly Linear fc;
    private readonly Linear fc_out;

    public TransformerBlock(TransformerConfig config) : base(nameof(TransformerBlock))
    {
        ln1 = LayerNorm(config.DModel, device: CPU);
        attn = new CausalSelfAttention(config);
        ln2 = LayerNorm(config.DModel, device: CPU);
        fc = Linear(config.DModel, 4 * config.DModel, device: CPU);
        fc_out = Linear(4 * config.DModel, config.DModel, device: CPU);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor mask, KvCache? cache, int layer)
    {
        x = x + attn.Forward(ln1.forward(x), mask, cache, layer);
        return x + fc_out.forward(functional.gelu(fc.forward(ln2.forward(x))));
    }

    /// <summary>The same block on the real tokens only, x [N, D] (<see cref="Unpadded"/>).</summary>
    public Tensor Forward(Tensor x, Tensor mask, Unpadded unpadded)
    {
        x = x + attn.Forward(ln1.forward(x), mask, unpadded);
        return x + fc_out.forward(functional.gelu(fc.forward(ln2.forward(x))));
    }
}
