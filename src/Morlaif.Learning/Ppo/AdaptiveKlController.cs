namespace Morlaif.Learning.Ppo;

/// <summary>
/// Ziegler et al.'s adaptive KL coefficient (trlx AdaptiveKLController): β grows when the policy's KL
/// to the reference exceeds the target and shrinks below it, by at most ±20% of n_steps/horizon per update.
/// </summary>
public sealed class AdaptiveKlController(double initCoef, double target, double horizon)
{
    public double Value { get; private set; } = initCoef;

    public void Update(double currentKl, int steps)
    {
        var error = Math.Clamp(currentKl / target - 1, -0.2, 0.2);
        Value *= 1 + error * steps / horizon;
    }

    internal void Restore(double value) => Value = value;
}
