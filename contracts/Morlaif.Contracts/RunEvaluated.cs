namespace Morlaif.Contracts;

/// <summary>Event: both arms were compared; report.json and report.md are stored and the run is Completed.</summary>
public sealed record RunEvaluated
{
    public required string RunId { get; init; }
    public required ArtifactReference Report { get; init; }
    public required ArtifactReference ReportMarkdown { get; init; }
}
