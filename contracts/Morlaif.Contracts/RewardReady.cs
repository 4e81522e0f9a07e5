namespace Morlaif.Contracts;

/// <summary>Event: an arm's reward is defined (the fitted objective for "morlaif", the overall PM for "baseline").</summary>
public sealed record RewardReady
{
    public required string RunId { get; init; }
    public required string Arm { get; init; }
    public required ArtifactReference Objective { get; init; }
}
