namespace Morlaif.Contracts;

/// <summary>Event: the SFT policy exists, and the response pairs for the judge were sampled from it.</summary>
public sealed record SftPolicyTrained
{
    public required string RunId { get; init; }
    public required ArtifactReference Policy { get; init; }
    public required ArtifactReference Pairs { get; init; }
}
