namespace Morlaif.Contracts;

/// <summary>Command (replay): compare the two arms' recorded policies and write the report.</summary>
public sealed record EvaluateRun
{
    public required string RunId { get; init; }
}
