namespace Morlaif.Contracts;

/// <summary>Event: the judge labelled every pair for one principle (or "overall", the baseline's question).</summary>
public sealed record PrincipleLabelled
{
    public required string RunId { get; init; }
    public required string Principle { get; init; }
    public required ArtifactReference Labels { get; init; }
}
