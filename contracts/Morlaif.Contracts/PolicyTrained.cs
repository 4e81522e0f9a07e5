namespace Morlaif.Contracts;

/// <summary>Event: PPO finished for one arm; the learner's final checkpoint is stored.</summary>
public sealed record PolicyTrained
{
    public required string RunId { get; init; }
    public required string Arm { get; init; }
    public required ArtifactReference Checkpoint { get; init; }
}
