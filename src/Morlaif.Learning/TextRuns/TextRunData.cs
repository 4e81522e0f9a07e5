using System.Text.Json;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.TextRuns;

/// <summary>A human preference pair (HH-RLHF's chosen and rejected), with the line of the file it came from.</summary>
public sealed record HumanPair(string Prompt, string Chosen, string Rejected, int Line);

/// <summary>An SFT demonstration (TRL's prompt and completion).</summary>
public sealed record SftDemonstration(string Prompt, string Completion);

/// <summary>
/// A text run's data, drawn and checked once when the run starts and stored as one artifact, so every worker reads
/// the same prompts in the same order without the user's files: the prompts of the response pairs (the first
/// pairs.train are the training pairs', the rest the held-out pairs'), the evaluation prompts (disjoint from them),
/// the human pairs the principle weights are fitted on, and the SFT demonstrations if any.
/// </summary>
public sealed record TextRunData(
    IReadOnlyList<string> PairPrompts,
    IReadOnlyList<string> EvaluationPrompts,
    IReadOnlyList<HumanPair> Human,
    IReadOnlyList<SftDemonstration>? Sft)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static TextRunData FromJson(byte[] json) =>
        JsonSerializer.Deserialize<TextRunData>(json, RunConfig.Json) ?? throw new InvalidDataException("text run data is empty");
}
