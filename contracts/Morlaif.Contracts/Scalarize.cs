namespace Morlaif.Contracts;

/// <summary>Command (replay): fit the objective from the recorded PMs and announce both arms' rewards.</summary>
public sealed record Scalarize
{
    public required string RunId { get; init; }
}
