namespace Morlaif.Contracts;

/// <summary>Where an immutable artifact lives and what it must hash to; messages carry these, never payloads.</summary>
public sealed record ArtifactReference
{
    public required string Container { get; init; }
    public required string Name { get; init; }
    public required string Sha256 { get; init; }
    public required long Length { get; init; }
}
