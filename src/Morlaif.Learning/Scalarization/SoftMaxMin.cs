namespace Morlaif.Learning.Scalarization;

/// <summary>R = Σ p_i r~_i with p = softmax(-r~ / T): a smooth minimum that tends to min as T → 0 and to the mean as T → ∞.</summary>
public sealed class SoftMaxMin(double temperature = 1.0) : IScalarizer
{
    public string Name => "soft-max-min";

    public double Combine(IReadOnlyList<double> weighted)
    {
        // Shift by the minimum before exponentiating so large scores cannot overflow.
        var min = weighted.Min();
        var e = weighted.Select(r => Math.Exp(-(r - min) / temperature)).ToArray();
        var z = e.Sum();
        return weighted.Select((r, i) => e[i] / z * r).Sum();
    }
}
