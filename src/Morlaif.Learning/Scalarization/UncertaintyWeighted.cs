namespace Morlaif.Learning.Scalarization;

/// <summary>R = mean(r~) - λ var(r~) with the population variance: disagreement between principles costs reward.</summary>
public sealed class UncertaintyWeighted(double lambda = 0.5) : IScalarizer
{
    public string Name => "uncertainty-weighted";

    public double Combine(IReadOnlyList<double> weighted)
    {
        var mean = weighted.Average();
        var variance = weighted.Select(r => (r - mean) * (r - mean)).Average();
        return mean - lambda * variance;
    }
}
