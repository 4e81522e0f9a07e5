using Morlaif.Learning.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>GPT-2's attention: one fused q|k|v projection (c_attn) and an output projection (c_proj), scaled by 1/sqrt(head_dim).</summary>
public sealed class Gpt2Attention : Module
{
    private Module<Tensor, Tensor> c_attn;
    private Module<Tensor, Tensor> c_proj;
    private readonly int _heads;
    private readonly int _headDim;

    public Gpt2Attention(HfConfig config) : base(nameof(Gpt2Attention))
    {
        (_heads, _headDim) = (config.Heads, config.HeadDim);
        c_attn = new Conv1D(config.HiddenSize, 3 * config.HiddenSize);
        c_proj = new Conv1D(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>The projections by their Hugging Face names (c_attn, c_proj): Conv1D unless replaced.</summary>
    public IReadOnlyDictionary<string, Module<Tensor, Tensor>> Projections =>
        new Dictionary<string, Module<Tensor, Tensor>> { ["c_attn"] = c_attn, ["c_proj"] = c_proj };

    /// <summary>Puts <paramref name="module"/> in place of a projection (a LoRA wrapper), under the same name.</summary>
    public void ReplaceProjection(string name, Module<Tensor, Tensor> module)
    {
        switch (name)
        {
            case "c_attn": c_attn = module; break;
            case "c_proj": c_proj = module; break;
            default: throw new ArgumentException($"no projection '{name}'", nameof(name));
        }
        // TorchSharp's register_module refuses a taken name; the old projection leaves the registry first.
        _internal_submodules.Remove(name);
        register_module(name, module);
    }

    /// <param name="mask">[B, 1, T, Tk], true where a query may see a key</param>
    public Tensor Forward(Tensor x, Tensor mask, KvCache? cache, int layer)
    {
        var (b, t, d) = (x.shape[0], x.shape[1], x.shape[2]);
        // c_attn's output is [q | k | v] along the features, each split into heads.
        var parts = c_attn.forward(x).view(b, t, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        Tensor q = parts[0], k = parts[1], v = parts[2];
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var y = functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        return c_proj.forward(y.transpose(1, 2).reshape(b, t, d));
    }
}
