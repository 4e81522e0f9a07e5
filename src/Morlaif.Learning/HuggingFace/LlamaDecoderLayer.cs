using Morlaif.Learning.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>Pre-norm decoder layer: input_layernorm, self_attn, residual; post_attention_layernorm, mlp, residual.</summary>
public sealed class LlamaDecoderLayer : Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;

    public LlamaDecoderLayer(HfConfig config) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(config);
        mlp = new LlamaMlp(config);
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
        RegisterComponents();
    }

    public LlamaAttention SelfAttn => self_attn;

    public LlamaMlp Mlp => mlp;

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layer)
    {
        x = x + self_attn.Forward(input_layernorm.forward(x), cos, sin, mask, cache, layer);
        return x + mlp.forward(post_attention_layernorm.forward(x));
    }
}
