namespace Morlaif.Learning.Scalarization;

/// <summary>The seven scalarization functions of METHOD.md, by the names config uses.</summary>
public static class Scalarizers
{
    public static readonly IReadOnlyList<IScalarizer> All =
    [
        new WeightedLinear(), new WorstCase(), new SoftMaxMin(), new UncertaintyWeighted(),
        new LowerQuantile(), new MaxMedian(), new BernoulliNash(),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(s => s.Name).ToArray();

    public static IScalarizer? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    public static IScalarizer Get(string name) => Find(name)
        ?? throw new ArgumentException($"unknown scalarization function '{name}' (known: {string.Join(", ", Names)})", nameof(name));
}
