using System.Globalization;
using System.Text;

namespace Morlaif.Learning.Runs;

/// <summary>
/// What a text run will cost before it is paid, from its config and its prompts' measured lengths: judge calls (each
/// pair asked per principle in both orders, the baseline's labels, the evaluation's comparisons in both orders, the
/// monitor's checks), generated tokens (the pairs, every arm's rollouts, the monitor's answers, the evaluation's) and
/// optimizer steps. Upper bounds where generation can stop early at eos.
/// </summary>
public sealed record TextRunCosts(
    long LabelJudgeCalls,
    long BaselineJudgeCalls,
    long EvaluationJudgeCalls,
    long PairTokens,
    long PpoTokens,
    long EvaluationTokens,
    long PreferenceModelSteps,
    long PpoSteps,
    long SftSteps,
    long MonitorJudgeCalls = 0,
    long MonitorTokens = 0)
{
    public long JudgeCalls => LabelJudgeCalls + BaselineJudgeCalls + EvaluationJudgeCalls + MonitorJudgeCalls;

    public long GeneratedTokens => PairTokens + PpoTokens + EvaluationTokens + MonitorTokens;

    /// <param name="sftExamples">the SFT file's examples (0 without one)</param>
    public static TextRunCosts Of(RunConfig c, int sftExamples = 0)
    {
        long pairs = c.Pairs.Train + c.Pairs.Test;
        var maxNew = c.Ppo.MaxNewTokens;
        long Steps(long examples, int batch) => (examples + batch - 1) / batch;
        // The PMs: one per principle, and the baseline's; each epoch walks the training pairs in batches.
        var pmSteps = (c.Principles.Length + 1) * c.PreferenceModel.Epochs * Steps(c.Pairs.Train, c.PreferenceModel.BatchSize);
        var arms = c.PolicyArms.Select(a => c.ForArm(a).Ppo).ToList();
        // The monitor checks every `every` iterations and at an arm's last: each check asks every principle about each
        // prompt in both orders, and the policy answers each prompt (the SFT answers once per worker process, counted per chunk).
        long Checks(Ppo.PpoSettings p) => (p.Iterations + RunConfig.MonitorOf(p).Every - 1) / RunConfig.MonitorOf(p).Every;
        var watched = arms.Where(c.MonitorOn).ToList();
        // A text run's monitor asks about training pairs' prompts: at most one per training pair.
        long Watched(Ppo.PpoSettings p) => Math.Min(RunConfig.MonitorOf(p).Prompts, c.Pairs.Train);
        return new TextRunCosts(
            LabelJudgeCalls: pairs * c.Principles.Length * 2,
            // "constitution" and "overall" both ask one question per pair, in both orders.
            BaselineJudgeCalls: pairs * 2,
            // Both policies answer each evaluation prompt; the judge compares them in both orders.
            EvaluationJudgeCalls: c.Evaluation.Prompts * 2L,
            PairTokens: pairs * 2 * maxNew,
            PpoTokens: arms.Sum(p => (long)p.Iterations * p.RolloutsPerIteration * p.MaxNewTokens),
            EvaluationTokens: 2L * c.Evaluation.Prompts * maxNew,
            PreferenceModelSteps: pmSteps,
            PpoSteps: arms.Sum(p => (long)p.Iterations * p.Epochs * p.MiniBatches),
            SftSteps: sftExamples == 0 ? 0 : c.Sft.Epochs * Steps(sftExamples, c.Sft.BatchSize),
            MonitorJudgeCalls: watched.Sum(p => Checks(p) * Watched(p) * c.Principles.Length * 2),
            MonitorTokens: watched.Sum(p => (Checks(p) + (p.Iterations + p.IterationsPerChunk - 1) / p.IterationsPerChunk) * Watched(p) * (long)p.MaxNewTokens));
    }

    /// <summary>The table `morlaif start --dry-run` prints.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine(string.Create(c, $"judge calls        {JudgeCalls,12:N0}  (labels {LabelJudgeCalls:N0}, baseline {BaselineJudgeCalls:N0}, evaluation {EvaluationJudgeCalls:N0}, monitor {MonitorJudgeCalls:N0})"));
        b.AppendLine(string.Create(c, $"generated tokens   {GeneratedTokens,12:N0}  at most (pairs {PairTokens:N0}, PPO {PpoTokens:N0}, evaluation {EvaluationTokens:N0}, monitor {MonitorTokens:N0})"));
        b.AppendLine(string.Create(c, $"optimizer steps    {PreferenceModelSteps + PpoSteps + SftSteps,12:N0}  (PMs {PreferenceModelSteps:N0}, PPO {PpoSteps:N0}, SFT {SftSteps:N0})"));
        return b.ToString();
    }
}
