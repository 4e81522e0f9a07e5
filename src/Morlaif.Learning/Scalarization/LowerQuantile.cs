namespace Morlaif.Learning.Scalarization;

/// <summary>R = mean of the floor(n/3) smallest r~_i (at least one, so that n &lt; 3 principles still give a reward).</summary>
public sealed class LowerQuantile : IScalarizer
{
    public string Name => "lower-quantile";

    public double Combine(IReadOnlyList<double> weighted) =>
        weighted.Order().Take(Math.Max(1, weighted.Count / 3)).Average();
}
