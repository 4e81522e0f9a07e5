namespace Morlaif.Contracts;

/// <summary>Command (replay): train one principle's preference model from its recorded labels.</summary>
public sealed record TrainPreferenceModel
{
    public required string RunId { get; init; }
    public required string Principle { get; init; }
}
