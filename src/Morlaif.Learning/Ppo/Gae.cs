using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// Generalised advantage estimation (Schulman et al. 2016) over a batch of responses [B, T]: backwards over the time
/// steps, δ_t = r_t + γ V_{t+1} - V_t and A_t = δ_t + γλ A_{t+1}; the returns the value head regresses to are A_t + V_t.
/// </summary>
public static class Gae
{
    /// <summary>
    /// Advantages and returns [B, T] in float64, 0 outside <paramref name="mask"/>. Rewards and values count as 0
    /// outside the mask, so the padding after a response carries nothing back into it and its last token sees V = 0
    /// after it. float64 because the recursion sums up to T discounted terms.
    /// </summary>
    public static (Tensor Advantages, Tensor Returns) Compute(Tensor rewards, Tensor values, Tensor mask, double gamma, double lambda)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var m = mask.to(ScalarType.Float64);
        var r = rewards.to(ScalarType.Float64) * m;
        var v = values.to(ScalarType.Float64) * m;
        var width = (int)r.shape[1];
        var steps = new Tensor[width];
        var lastGaeLam = zeros_like(r[.., 0]);
        var nextValue = zeros_like(v[.., 0]);
        for (var t = width - 1; t >= 0; t--)
        {
            var delta = r[.., t] + gamma * nextValue - v[.., t];
            lastGaeLam = delta + gamma * lambda * lastGaeLam;
            steps[t] = lastGaeLam;
            nextValue = v[.., t];
        }
        var advantages = stack(steps, 1) * m;
        return (scope.MoveToOuter(advantages), scope.MoveToOuter((advantages + v) * m));
    }
}
