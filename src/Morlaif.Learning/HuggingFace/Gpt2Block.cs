using Morlaif.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>GPT-2's pre-norm block: ln_1, attention, residual; ln_2, MLP, residual.</summary>
public sealed class Gpt2Block : Module
{
    private readonly LayerNorm ln_1;
    private readonly Gpt2Attention attn;
    private readonly LayerNorm ln_2;
    private readonly Gpt2Mlp mlp;

    public Gpt2Block(HfConfig config) : base(nameof(Gpt2Block))
    {
        ln_1 = LayerNorm(config.HiddenSize, config.NormEps, device: CPU);
        attn = new Gpt2Attention(config);
        ln_2 = LayerNorm(config.HiddenSize, config.NormEps, device: CPU);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    public Gpt2Attention Attn => attn;

    public Gpt2Mlp Mlp => mlp;

    public Tensor Forward(Tensor x, Tensor mask, KvCache? cache, int layer)
    {
        x = x + attn.Forward(ln_1.forward(x), mask, cache, layer);
        return x + mlp.forward(ln_2.forward(x));
    }
}
