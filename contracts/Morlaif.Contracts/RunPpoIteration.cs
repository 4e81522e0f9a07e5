namespace Morlaif.Contracts;

/// <summary>
/// Command: one bounded PPO iteration of one arm, from the checkpoint of the iteration before. The
/// learner sends the next one to itself, so no message is held longer than one iteration.
/// </summary>
public sealed record RunPpoIteration
{
    public required string RunId { get; init; }
    public required string Arm { get; init; }
    public required int Iteration { get; init; }
}
