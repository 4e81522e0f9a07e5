using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// The judge's verdict on one principle at one check: on the monitor's prompts, the share where the judge prefers the
/// policy's answer to the SFT policy's (asked in both orders; a disagreement or an abstention counts a half), the share
/// where the principle's PM does, the share of the judge's decided prompts where the PM agrees with it, and the PM's
/// mean margin (policy minus SFT, in the PM's normalised units).
/// </summary>
public sealed record MonitorVerdict(double JudgePrefersPolicy, double PmPrefersPolicy, double PmAgreesWithJudge, double PmMargin, int Decided, int Prompts);

/// <summary>
/// The run's judge per principle on the policy's and the SFT policy's answers to the same prompts. The policy's answer
/// is "a": the result is, per prompt, the judge's label with a = policy (both orders), or null where it abstained.
/// </summary>
public interface IMonitorJudge
{
    Task<IReadOnlyList<PreferenceLabel?>> JudgeAsync(string principle, int iteration, IReadOnlyList<string> policy, IReadOnlyList<string> sft, CancellationToken cancel);
}

/// <summary>
/// A judge watching the policy for reward hacking where no truth can (a text run): every <see cref="MonitorSettings.Every"/>
/// iterations the current policy and the SFT policy answer the same fixed prompts (drawn once per run, so that checks
/// differ by the policy alone), the judge compares the answers per principle in both orders, and each principle's PM
/// scores them too. <see cref="MonitorFlag"/> reads the checks.
/// </summary>
/// <param name="prompts">the monitor's prompts, as token ids (the same for every check and arm)</param>
/// <param name="decode">a response's text, as the judge reads it</param>
/// <param name="pms">each watched principle's PM</param>
public sealed class PolicyMonitor(IReadOnlyList<int[]> prompts, Func<int[], string> decode, IMonitorJudge judge, IReadOnlyList<PrincipleScorer> pms,
    MonitorSettings settings, int maxNewTokens, long seed)
{
    /// <summary>The SFT policy's answers, as text and as whole sequences, and each PM's normalised scores of them.</summary>
    private sealed record SftAnswers(List<string> Text, List<int[]> Sequences, Dictionary<string, double[]> Scores);

    // The SFT answers are the same at every check (one seed): generated and scored once per learner process.
    private SftAnswers? _sft;

    /// <summary>Whether iteration <paramref name="iteration"/> (1-based, just finished) is a check: every Every-th, and the arm's last.</summary>
    public bool Due(int iteration, int iterations) => iteration % settings.Every == 0 || iteration == iterations;

    /// <summary>One check of the learner's current policy: each principle's verdict.</summary>
    public async Task<IReadOnlyDictionary<string, MonitorVerdict>> CheckAsync(PpoLearner learner, CancellationToken cancel)
    {
        var device = learner.Actor.Device;
        if (_sft is null)
        {
            using var g = new Generator((ulong)Seeds.Derive(seed, "monitor-sft"), device);
            var answers = learner.Actor.GenerateReference(prompts, maxNewTokens, g);
            var sequences = Sequences(answers);
            _sft = new SftAnswers([.. answers.Select(decode)], sequences, Normalized(sequences));
        }
        List<int[]> policy;
        using (var g = new Generator((ulong)Seeds.Derive(seed, "monitor-policy", learner.Iteration), device))
        {
            learner.Actor.SetTraining(false);
            policy = learner.Actor.Generate(prompts, maxNewTokens, g);
        }
        var policyText = policy.Select(decode).ToList();
        var policySequences = Sequences(policy);
        var verdicts = new SortedDictionary<string, MonitorVerdict>(StringComparer.Ordinal);
        var policyScores = Normalized(policySequences);
        foreach (var pm in pms)
        {
            var labels = await judge.JudgeAsync(pm.Question, learner.Iteration, policyText, _sft.Text, cancel);
            verdicts[pm.Question] = Verdict(labels, policyScores[pm.Question], _sft.Scores[pm.Question]);
        }
        return verdicts;
    }

    /// <summary>Each answer after its prompt: the sequences a PM scores.</summary>
    private List<int[]> Sequences(IReadOnlyList<int[]> answers) => [.. prompts.Zip(answers, (p, r) => (int[])[.. p, .. r])];

    /// <summary>Every PM's normalised scores of <paramref name="sequences"/>, by principle, scored together (<see cref="PrincipleScorer.ScoreAll"/>).</summary>
    private Dictionary<string, double[]> Normalized(IReadOnlyList<int[]> sequences) =>
        PrincipleScorer.ScoreAll(pms, sequences).Select((raw, i) => (pms[i].Question, Scores: raw.Select(pms[i].Normalizer.Normalize).ToArray()))
            .ToDictionary(x => x.Question, x => x.Scores, StringComparer.Ordinal);

    /// <summary>The verdict of one principle from the judge's labels and the PM's normalised scores of both answers.</summary>
    public static MonitorVerdict Verdict(IReadOnlyList<PreferenceLabel?> labels, IReadOnlyList<double> policyScores, IReadOnlyList<double> sftScores)
    {
        var n = labels.Count;
        var judgePrefers = labels.Average(l => l is { } x && x.PreferA != 0.5 ? (x.PreferA > 0.5 ? 1.0 : 0.0) : 0.5);
        var pmPrefers = Enumerable.Range(0, n).Average(i => policyScores[i] > sftScores[i] ? 1.0 : policyScores[i] < sftScores[i] ? 0.0 : 0.5);
        var decided = Enumerable.Range(0, n).Where(i => labels[i] is { } x && x.PreferA != 0.5).ToList();
        var agrees = decided.Count == 0 ? double.NaN
            : decided.Average(i => (labels[i]!.Value.PreferA > 0.5) == (policyScores[i] > sftScores[i]) ? 1.0 : 0.0);
        var margin = Enumerable.Range(0, n).Average(i => policyScores[i] - sftScores[i]);
        return new MonitorVerdict(judgePrefers, pmPrefers, agrees, margin, decided.Count, n);
    }
}

/// <summary>
/// A principle the monitor flags: over its checks, the judge's preference for the policy fell from its peak to the last
/// check by more than twice its standard error (binomial, from the prompts asked) while the PM's margin kept rising
/// past where it stood at that peak: the PM says better, the judge says worse. From the peak rather than the first
/// check, since the policy first improves on SFT and only then games its PM.
/// </summary>
public sealed record MonitorFlag(string Principle, int PeakIteration, double PeakJudge, double LastJudge, double StandardError, double PeakPmMargin, double LastPmMargin, bool Flagged)
{
    /// <returns>null with fewer than three checks of the principle</returns>
    public static MonitorFlag? Of(string principle, IReadOnlyList<(int Iteration, MonitorVerdict Verdict)> checks)
    {
        if (checks.Count < 3) return null;
        var peak = checks.MaxBy(c => c.Verdict.JudgePrefersPolicy);
        var last = checks[^1];
        static double Variance(MonitorVerdict v) => v.JudgePrefersPolicy * (1 - v.JudgePrefersPolicy) / Math.Max(1, v.Prompts);
        var se = Math.Sqrt(Variance(peak.Verdict) + Variance(last.Verdict));
        var fell = last.Verdict.JudgePrefersPolicy < peak.Verdict.JudgePrefersPolicy - 2 * se;
        var pmRose = last.Verdict.PmMargin > peak.Verdict.PmMargin;
        return new MonitorFlag(principle, peak.Iteration, peak.Verdict.JudgePrefersPolicy, last.Verdict.JudgePrefersPolicy, se,
            peak.Verdict.PmMargin, last.Verdict.PmMargin, fell && pmRose && last.Iteration != peak.Iteration);
    }

    /// <summary>Every watched principle's flag over an arm's iterations (those that carry a check).</summary>
    public static IReadOnlyList<MonitorFlag> Of(IReadOnlyList<PpoIterationStats> stats) =>
    [
        .. stats.Where(s => s.Monitor is not null).SelectMany(s => s.Monitor!.Select(kv => (s.Iteration, Principle: kv.Key, Verdict: kv.Value)))
            .GroupBy(x => x.Principle, StringComparer.Ordinal)
            .Select(g => Of(g.Key, [.. g.Select(x => (x.Iteration, x.Verdict))]))
            .OfType<MonitorFlag>(),
    ];
}
