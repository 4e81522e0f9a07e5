namespace Morlaif.Learning.Scalarization;

/// <summary>R = Σ r~_i.</summary>
public sealed class WeightedLinear : IScalarizer
{
    public string Name => "linear";
    public double Combine(IReadOnlyList<double> weighted) => weighted.Sum();
}
