using Morlaif.Learning.Runs;

namespace Morlaif.Learning.Stages;

/// <summary>
/// Which questions the judge is asked in a run, which PMs it trains, and which labels each PM learns from. Every
/// labelled question has a PM of its own: the principles, the baseline's, and, where the run matches the baseline's
/// label budget to MORLAIF's (<see cref="RunConfig.TrainsMatchedPms"/>), the baseline's further draws: each pair judged
/// on as many drawn constitution principles as MORLAIF has principles. Two PMs learn from other questions' labels:
/// the control PM (the baseline's labels and the human pairs) and the pooled PM (every draw's labels, one PM).
/// </summary>
public static class PmQuestions
{
    private const string HumanSuffix = "+human", PooledSuffix = "+pooled";

    /// <summary>The control PM's question: the baseline's, with the human labels.</summary>
    public static string Control(string baseline) => baseline + HumanSuffix;

    /// <summary>The pooled PM's question: one PM on every draw's labels.</summary>
    public static string Pooled(string baseline) => baseline + PooledSuffix;

    /// <summary>The baseline's <paramref name="draw"/>-th label question (1-based): the baseline's own for the first, "constitution-2" and on after it.</summary>
    public static string Draw(string baseline, int draw) => draw == 1 ? baseline : $"{baseline}-{draw}";

    /// <summary>The baseline's label questions: its own, then, with matched budgets, one more per principle but the first.</summary>
    public static IReadOnlyList<string> Draws(RunConfig config) =>
        [.. Enumerable.Range(1, config.TrainsMatchedPms ? config.Principles.Length : 1).Select(k => Draw(config.Baseline, k))];

    /// <summary>Which draw of the baseline <paramref name="question"/> is (1-based), or null when it is not one of its draws.</summary>
    public static int? DrawOf(string question, string baseline) =>
        question == baseline ? 1
        : question.StartsWith(baseline + "-", StringComparison.Ordinal) && int.TryParse(question.AsSpan(baseline.Length + 1), out var k) && k > 1 ? k
        : null;

    /// <summary>What the judge labels, in order: the principles, then the baseline's draws.</summary>
    public static IReadOnlyList<string> Labelled(RunConfig config) => [.. config.Principles, .. Draws(config)];

    /// <summary>Every PM the run trains: one per labelled question, then the control PM and the pooled PM where the run has them.</summary>
    public static IReadOnlyList<string> All(RunConfig config) =>
    [
        .. Labelled(config),
        .. config.TrainsControlPm ? [Control(config.Baseline)] : Array.Empty<string>(),
        .. config.TrainsMatchedPms ? [Pooled(config.Baseline)] : Array.Empty<string>(),
    ];

    /// <summary>
    /// The labelled questions whose labels train <paramref name="pm"/>, and whether the simulated human raters' pairs
    /// join them (the control PM's).
    /// </summary>
    public static (IReadOnlyList<string> Labels, bool Human) TrainedOn(string pm, RunConfig config) =>
        pm == Control(config.Baseline) ? ([config.Baseline], true)
        : pm == Pooled(config.Baseline) ? (Draws(config), false)
        : ([pm], false);
}
