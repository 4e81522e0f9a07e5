namespace Morlaif.Feedback.Datasets;

/// <summary>One comparison: the conversation so far, and two candidate final responses (in the file's order).</summary>
public sealed record PreferenceExample(string Prompt, string Chosen, string Rejected, int Line);
