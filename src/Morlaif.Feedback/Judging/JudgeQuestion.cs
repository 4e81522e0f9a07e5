using Microsoft.Extensions.AI;

namespace Morlaif.Feedback.Judging;

/// <summary>
/// The paper's per-principle question: the conversation, "Option A: ...", "Option B: ...", which response
/// is {phrase} "regardless of how good the answer is from other perspectives", answered with A or B only.
/// </summary>
public sealed record JudgeQuestion(string Conversation, string OptionA, string OptionB, string PrinciplePhrase)
{
    public IList<ChatMessage> ToMessages() =>
    [
        new(ChatRole.System, "You compare two responses of an AI assistant. Answer with a single letter: A or B."),
        new(ChatRole.User,
            $"""
            Consider the following conversation between a human and an assistant:
            {Conversation.Trim()}

            Option A: {OptionA.Trim()}
            Option B: {OptionB.Trim()}

            Which of these responses is {PrinciplePhrase}, regardless of how good the answer is from other perspectives?
            Answer only with "A" or "B".
            The best response is option:
            """),
    ];

    /// <summary>The same question with the options swapped: asking both orders cancels the judge's position bias.</summary>
    public JudgeQuestion Swapped() => this with { OptionA = OptionB, OptionB = OptionA };
}
