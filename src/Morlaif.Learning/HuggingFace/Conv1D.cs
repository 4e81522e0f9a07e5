using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored [in, out] (y = x W + b), the transpose of
/// <see cref="Linear"/>. Kept in that layout so GPT-2 checkpoints load and save without transposing.
/// </summary>
public sealed class Conv1D : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public Conv1D(long inFeatures, long outFeatures) : base(nameof(Conv1D))
    {
        weight = new Parameter(empty(inFeatures, outFeatures, device: CPU).normal_(0, 0.02));
        bias = new Parameter(zeros(outFeatures, device: CPU));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public Parameter Bias => bias;

    public override Tensor forward(Tensor x)
    {
        var shape = x.shape.ToArray();
        shape[^1] = weight.shape[1];
        return addmm(bias, x.reshape(-1, x.shape[^1]), weight, beta: 1, alpha: 1).view(shape);
    }
}
