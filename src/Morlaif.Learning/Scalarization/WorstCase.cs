namespace Morlaif.Learning.Scalarization;

/// <summary>Max-min (Rawlsian): R = min_i r~_i, the response is as good as its worst principle.</summary>
public sealed class WorstCase : IScalarizer
{
    public string Name => "worst-case";
    public double Combine(IReadOnlyList<double> weighted) => weighted.Min();
}
