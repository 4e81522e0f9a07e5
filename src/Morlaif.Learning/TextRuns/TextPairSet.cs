using System.Text.Json;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// A prompt with two responses sampled from the SFT policy: the token ids the policy generated (what the PMs are
/// trained on, never a re-tokenization of the text) and their text (what the judge reads).
/// </summary>
public sealed record TextPair(string Prompt, int[] PromptIds, int[] A, int[] B, string TextA, string TextB) : Stages.ISampledPair
{
    /// <summary>The prompt is the conversation as the data gave it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Conversation => Prompt;

    public int[] SequenceA() => [.. PromptIds, .. A];
    public int[] SequenceB() => [.. PromptIds, .. B];
}

/// <summary>
/// A text run's response pairs: the training split the PMs learn from and the held-out split their accuracy is
/// measured on. <paramref name="Identical"/> counts pairs whose two samples stayed the same after every redraw.
/// </summary>
public sealed record TextPairSet(IReadOnlyList<TextPair> Train, IReadOnlyList<TextPair> Test, int Identical)
{
    public IEnumerable<TextPair> All => Train.Concat(Test);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static TextPairSet FromJson(byte[] json) =>
        JsonSerializer.Deserialize<TextPairSet>(json, RunConfig.Json) ?? throw new InvalidDataException("text pair set is empty");
}
