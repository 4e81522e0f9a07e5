namespace Morlaif.Learning.Scalarization;

/// <summary>R = median(r~), the mean of the two middle values when n is even.</summary>
public sealed class MaxMedian : IScalarizer
{
    public string Name => "max-median";

    public double Combine(IReadOnlyList<double> weighted)
    {
        var sorted = weighted.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
