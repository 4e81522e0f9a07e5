namespace Morlaif.Contracts;

/// <summary>Event: one principle's preference model is trained and stored.</summary>
public sealed record PreferenceModelTrained
{
    public required string RunId { get; init; }
    public required string Principle { get; init; }
    public required ArtifactReference Model { get; init; }
}
