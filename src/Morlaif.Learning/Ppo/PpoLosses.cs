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

    /// <summary>
    /// GRPO's KL term: the k3 estimator of KL(π || π_ref) per token, exp(d) - d - 1 with d = log π_ref - log π, averaged
    /// over the response tokens (trl GRPOTrainer's per_token_kl): unbiased, never negative, and its gradient pulls π toward π_ref.
    /// </summary>
    public static Tensor K3Kl(Tensor logProbs, Tensor refLogProbs, Tensor mask)
    {
        var d = refLogProbs - logProbs;
        return Masked.Mean(d.exp() - d - 1, mask);
    }
}
