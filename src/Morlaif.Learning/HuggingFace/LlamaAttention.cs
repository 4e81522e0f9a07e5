using Morlaif.Learning.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// Llama/Mistral/Qwen2 attention: separate q/k/v/o projections (distinct submodules, so LoRA can wrap
/// each), rotary q and k, grouped-query attention (each k/v head serves heads / kv_heads query heads).
/// The cache holds the kv heads unrepeated, so it is as small as the model intends.
/// </summary>
public sealed class LlamaAttention : Module
{
    private Module<Tensor, Tensor> q_proj;
    private Module<Tensor, Tensor> k_proj;
    private Module<Tensor, Tensor> v_proj;
    private Module<Tensor, Tensor> o_proj;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public LlamaAttention(HfConfig config) : base(nameof(LlamaAttention))
    {
        (_heads, _kvHeads, _headDim) = (config.Heads, config.KvHeads, config.HeadDim);
        q_proj = Linear(config.HiddenSize, _heads * _headDim, hasBias: config.QkvBias, device: CPU);
        k_proj = Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, device: CPU);
        v_proj = Linear(config.HiddenSize, _kvHeads * _headDim, hasBias: config.QkvBias, device: CPU);
        o_proj = Linear(_heads * _headDim, config.HiddenSize, hasBias: config.OutputBias, device: CPU);
        RegisterComponents();
    }

    /// <summary>The projections by their Hugging Face names (q_proj, k_proj, v_proj, o_proj).</summary>
    public IReadOnlyDictionary<string, Module<Tensor, Tensor>> Projections =>
        new Dictionary<string, Module<Tensor, Tensor>> { ["q_proj"] = q_proj, ["k_proj"] = k_proj, ["v_proj"] = v_proj, ["o_proj"] = o_proj };

    /// <summary>Puts <paramref name="module"/> in place of a projection (a LoRA wrapper), under the same name.</summary>
    public void ReplaceProjection(string name, Module<Tensor, Tensor> module)
    {
        switch (name)
        {
            case "q_proj": q_proj = module; break;
            case "k_proj": k_proj = module; break;
            case "v_proj": v_proj = module; break;
            case "o_proj": o_proj = module; break;
            default: throw new ArgumentException($"no projection '{name}'", nameof(name));
        }
        // TorchSharp's register_module refuses a taken name; the old projection leaves the registry first.
        _internal_submodules.Remove(name);
        register_module(name, module);
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layer)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);
        var k = k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        if (_kvHeads != _heads)
        {
            // Query head j reads kv head j / (heads / kv_heads), as Hugging Face's repeat_kv lays them out.
            var repeat = _heads / _kvHeads;
            k = k.repeat_interleave(repeat, 1);
            v = v.repeat_interleave(repeat, 1);
        }
        var y = functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        return o_proj.forward(y.transpose(1, 2).reshape(b, t, _heads * _headDim));
    }
}
