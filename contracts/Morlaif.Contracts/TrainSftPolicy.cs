namespace Morlaif.Contracts;

/// <summary>Command (replay): train the SFT policy and sample the pairs of a run again.</summary>
public sealed record TrainSftPolicy
{
    public required string RunId { get; init; }
}
