using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>Multi-head causal self-attention with an optional key/value cache.</summary>
public sealed class CausalSelfAttention : Module
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly int _heads;
    private readonly int _headDim;

    public CausalSelfAttention(TransformerConfig config) : base(nameof(CausalSelfAttention))
    {
        _heads = config.Heads;
        _headDim = config.HeadDim;
        qkv = Linear(config.DModel, 3 * config.DModel, device: CPU);
        proj = Linear(config.DModel, config.DModel, device: CPU);
        RegisterComponents();
    }

    /// <param name="x">[B, T, D]</param>
    /// <param name="mask">[B, 1, T, Tk], true where a query may attend to a key</param>
    public Tensor Forward(Tensor x, Tensor mask, KvCache? cache, int layer)
    {
        var (b, t, d) = (x.shape[0], x.shape[1], x.shape[2]);
        var parts = qkv.forward(x).view(b, t, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        Tensor q = parts[0], k = parts[1], v = parts[2];
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var y = functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        return proj.forward(y.transpose(1, 2).reshape(b, t, d));
    }

    /// <summary>The same attention on the real tokens only, x [N, D]: only the attention itself runs on the padded layout.</summary>
    public Tensor Forward(Tensor x, Tensor mask, Unpadded unpadded)
    {
        var (b, t, d) = (unpadded.Batch, unpadded.Length, x.shape[1]);
        var parts = unpadded.Unpack(qkv.forward(x)).view(b, t, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var y = functional.scaled_dot_product_attention(parts[0], parts[1], parts[2], attn_mask: mask);
        return proj.forward(unpadded.Pack(y.transpose(1, 2).reshape(b, t, d)));
    }
}
