namespace Morlaif.Contracts;

/// <summary>Command (replay): label the run's pairs, for one principle or (when null) for every question.</summary>
public sealed record LabelPairs
{
    public required string RunId { get; init; }
    public string? Principle { get; init; }
}
