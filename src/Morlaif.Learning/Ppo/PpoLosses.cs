using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// PPO's two losses, averaged over the response tokens. The value loss is its own part so that a learner without a
/// critic (its advantages from a group's rewards instead of GAE) can leave it out.
/// </summary>
internal static class PpoLosses
{
    /// <summary>The clipped surrogate objective, negated: max(-A r, -A clip(r, 1 - ε, 1 + ε)), r = π/π_old.</summary>
    public static Tensor Policy(Tensor ratio, Tensor advantages, Tensor mask, double clipRange) =>
        Masked.Mean(maximum(-advantages * ratio, -advantages * ratio.clamp(1 - clipRange, 1 + clipRange)), mask);

    /// <summary>
    /// ½ max((V - R)², (V_clipped - R)²), V_clipped within ±<paramref name="clipRange"/> of the rollout's values: the
    /// value head may not move further per iteration than the policy's ratio is let.
    /// </summary>
    public static Tensor Value(Tensor values, Tensor oldValues, Tensor returns, Tensor mask, double clipRange)
    {
        var clipped = oldValues + (values - oldValues).clamp(-clipRange, clipRange);
        return 0.5 * Masked.Mean(maximum((values - returns).square(), (clipped - returns).square()), mask);
    }
}
