using System.Text.Json;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>
/// A prompt with two responses sampled from the SFT policy, whatever the model family: the token sequences the PMs learn
/// from (never a re-tokenization of the text) and what the judge reads (the conversation and the two responses' text).
/// </summary>
public interface ISampledPair
{
    /// <summary>The conversation the responses answer, as a judge is shown it.</summary>
    string Conversation { get; }

    string TextA { get; }

    string TextB { get; }

    int[] SequenceA();

    int[] SequenceB();
}

/// <summary>
/// A prompt (the world's <see cref="SyntheticPrompt"/>, or a dataset's conversation) with two responses sampled from the
/// SFT policy: token ids after the prompt (eos included when drawn), their text, and the prompt as the judge reads it.
/// </summary>
public sealed record ResponsePair<TPrompt>(TPrompt Prompt, string Conversation, int[] PromptIds, int[] A, int[] B, string TextA, string TextB) : ISampledPair
{
    public int[] SequenceA() => [.. PromptIds, .. A];
    public int[] SequenceB() => [.. PromptIds, .. B];
}

/// <summary>
/// The pairs a run samples: Train and Test for the judge (PM training, PM accuracy); where a truth is known (the world),
/// Human for the simulated raters (the principle weights) and Accuracy for the noise-free truth alone (every objective's
/// accuracy). <paramref name="Identical"/> counts pairs whose two responses stayed the same through every round.
/// </summary>
public sealed record PairSet<TPrompt>(
    IReadOnlyList<ResponsePair<TPrompt>> Train, IReadOnlyList<ResponsePair<TPrompt>> Test, IReadOnlyList<ResponsePair<TPrompt>> Human,
    IReadOnlyList<ResponsePair<TPrompt>> Accuracy, int Identical = 0)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static PairSet<TPrompt> FromJson(byte[] json) =>
        JsonSerializer.Deserialize<PairSet<TPrompt>>(json, RunConfig.Json) ?? throw new InvalidDataException("pair set is empty");
}

/// <summary>
/// The judge's labels for every pair of a <see cref="PairSet{TPrompt}"/>, for one question (a principle or "overall").
/// A question a real judge could not answer counts in <paramref name="Abstentions"/> and is labelled a tie.
/// </summary>
public sealed record LabelSet(string Question, IReadOnlyList<PreferenceLabel> Train, IReadOnlyList<PreferenceLabel> Test, int Abstentions = 0)
{
    public double OrdersDisagreed => Train.Concat(Test).Average(l => l.OrdersDisagreed ? 1.0 : 0.0);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static LabelSet FromJson(byte[] json) =>
        JsonSerializer.Deserialize<LabelSet>(json, RunConfig.Json) ?? throw new InvalidDataException("label set is empty");
}
