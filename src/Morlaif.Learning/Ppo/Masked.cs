using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>Statistics over the response tokens only (trl's masked_mean, masked_var, masked_whiten).</summary>
internal static class Masked
{
    public static Tensor Mean(Tensor x, Tensor mask) => (x * mask).sum() / mask.sum().clamp_min(1);

    public static Tensor Variance(Tensor x, Tensor mask) => Mean((x - Mean(x, mask)).square(), mask);

    /// <summary>Zero mean and unit variance over the mask, 0 outside it.</summary>
    public static Tensor Whiten(Tensor x, Tensor mask)
    {
        var mean = Mean(x, mask);
        var variance = Mean((x - mean).square(), mask);
        return (x - mean) * (variance + 1e-8).rsqrt() * mask;
    }

    /// <summary>1 - Var(returns - values) / Var(returns): 1 is a perfect value head, 0 no better than a constant.</summary>
    public static double ExplainedVariance(Tensor returns, Tensor values, Tensor mask)
    {
        using var _ = no_grad();
        var total = Variance(returns, mask).item<float>();
        return total < 1e-12 ? double.NaN : 1 - Variance(returns - values, mask).item<float>() / total;
    }
}
