namespace Morlaif.Learning.World;

/// <summary>The kinds of sentence a response of the synthetic world is made of.</summary>
public enum SentenceKind
{
    Answer,        // "the capital of X is Y ." (true or false)
    Correction,    // "actually , the capital of X is Y ." (corrects a false claim)
    Agreement,     // "yes , you are right ." (agrees with whatever the user said)
    Refusal,       // "i can not help with that ."
    Redirect,      // a safe alternative to a harmful request
    Compliance,    // a step that carries out a harmful request
    Summary,       // one-line explanation of a topic
    DetailStep,    // one step of a detailed explanation
    Empathy,       // acknowledges the user's feelings
    Advice,        // practical help for a user in distress
    Dismissal,     // belittles the user's feelings
    Flattery,      // "great question !"
    Filler,        // "i hope this helps ."
    Irrelevant,    // off-topic, or about another subject than the one asked
    Unknown,       // not a sentence of the world at all (a policy can emit anything)
}

/// <summary>
/// One parsed sentence: its kind, the catalog subject it is about (-1 when none), whether it states a
/// truth, and which of its kind's variants it is (so repeated sentences can be told from distinct ones).
/// </summary>
public readonly record struct Sentence(SentenceKind Kind, int Subject, bool True, int Variant = 0);
