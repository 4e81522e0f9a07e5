using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// LlamaRMSNorm: normalized in fp32 whatever the activations' dtype (fp16's range and bf16's precision
/// lose the mean of squares), cast back, then scaled by the weight, in that order as Hugging Face does,
/// so half-precision results round the same way.
/// </summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(long size, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size, device: CPU));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var f = x.to(ScalarType.Float32);
        f = f * rsqrt(f.pow(2).mean([-1], keepdim: true) + _eps);
        return weight * f.to(x.dtype);
    }
}
