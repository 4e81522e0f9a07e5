namespace Morlaif.Learning.Stages;

/// <summary>
/// How a model family's stages turn a run's prompts into token ids and responses back into text: the world's word
/// tokenizer over its <see cref="World.SyntheticPrompt"/>s (<see cref="World.WorldRun"/>), or a Hugging Face tokenizer over a
/// dataset's conversations (<see cref="TextRuns.TextRun"/>).
/// </summary>
public interface IPromptTokenizer<in TPrompt>
{
    /// <summary>The prompt as the policy reads it, up to where its response starts.</summary>
    int[] EncodePrompt(TPrompt prompt);

    /// <summary>A response's text (special tokens such as the closing eos left out).</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The prompt as an HH-RLHF conversation, as a judge is shown it.</summary>
    string Conversation(TPrompt prompt);
}
