using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// Rotary position embeddings in Hugging Face's rotate-half layout: feature i pairs with i + head_dim/2
/// (not with its neighbour, as in Meta's original), which is how converted checkpoints' q/k weights are permuted.
/// Not a module: the frequencies are a function of the config, not weights, and a registered buffer
/// would appear in the state_dict that must equal the checkpoint's keys.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] _invFreq;

    public RotaryEmbedding(HfConfig config)
    {
        var dim = config.HeadDim;
        var invFreq = new double[dim / 2];
        for (var i = 0; i < invFreq.Length; i++) invFreq[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        if (config.RopeScaling is { } scaling) invFreq = scaling.Apply(invFreq);
        _invFreq = invFreq.Select(f => (float)f).ToArray();
    }

    /// <summary>cos and sin [B, 1, T, head_dim] for positions [B, T], in <paramref name="dtype"/>; the angles are computed in fp32.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positions, ScalarType dtype)
    {
        var invFreq = tensor(_invFreq, device: positions.device);
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * invFreq;
        var emb = cat([freqs, freqs], -1).unsqueeze(1);
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>x [B, H, T, head_dim] rotated by its positions' angles.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var halves = x.chunk(2, -1);
        var rotated = cat([-halves[1], halves[0]], -1);
        return x * cos + rotated * sin;
    }
}
