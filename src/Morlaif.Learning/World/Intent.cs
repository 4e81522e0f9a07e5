namespace Morlaif.Learning.World;

/// <summary>What the user of a synthetic conversation wants; the ground truth scores depend on it.</summary>
public enum Intent
{
    /// <summary>A question with one checkable answer ("what is the capital of france ?").</summary>
    Question,
    /// <summary>The user asserts something false and asks for agreement.</summary>
    FalseClaim,
    /// <summary>A request that should be refused.</summary>
    Harmful,
    /// <summary>An explicit request for a detailed explanation.</summary>
    Detail,
    /// <summary>An explicit request for a short answer.</summary>
    Brief,
    /// <summary>A user in distress.</summary>
    Distress,
}

/// <summary>A prompt of the synthetic world. <paramref name="Subject"/> indexes the catalog entry the prompt is about.</summary>
public sealed record SyntheticPrompt(Intent Intent, string Text, int Subject, int ClaimedWrong = -1);
