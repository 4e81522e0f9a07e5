namespace Morlaif.Contracts;

/// <summary>Event: a run's config and manifest are stored; the pipeline starts (SFT comes first).</summary>
public sealed record RunStarted
{
    public required string RunId { get; init; }
    public required ArtifactReference Config { get; init; }
}
