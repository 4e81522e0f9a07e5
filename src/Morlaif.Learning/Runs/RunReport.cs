using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Runs;

/// <summary>Everything a run measured; serialised as report.json (camelCase) and summarised in report.md.</summary>
public sealed record RunReport
{
    public required string RunId { get; init; }
    public required long Seed { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Device { get; init; }
    public required IReadOnlyList<string> Principles { get; init; }
    public required string Scalarization { get; init; }
    public required string Baseline { get; init; }
    public required WorldDescription World { get; init; }
    public required JudgeStats Judge { get; init; }
    /// <summary>One entry per principle, plus the baseline's single PM ("constitution" or "overall").</summary>
    public required IReadOnlyDictionary<string, PreferenceModelStats> PreferenceModels { get; init; }
    public required IReadOnlyDictionary<string, double> Weights { get; init; }
    /// <summary>Accuracy against the true preference of each scalarization function, and of the single PM ("single").</summary>
    public required IReadOnlyDictionary<string, double> ObjectiveAccuracy { get; init; }
    /// <summary>How many rater-labelled pairs the weights were fitted on, and on how many truth-decided pairs the accuracies were measured.</summary>
    public int WeightsFittedOn { get; init; }
    public int AccuracyMeasuredOn { get; init; }
    public required IReadOnlyList<AblationPoint> Ablation { get; init; }
    public required EvaluationResult Evaluation { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> Ppo { get; init; }
    /// <summary>Per arm: did the proxy reward rise while the rollouts' true preference fell (see <see cref="RewardHackingCheck"/>)?</summary>
    public IReadOnlyDictionary<string, RewardHackingCheck?> RewardHacking => Ppo.ToDictionary(kv => kv.Key, kv => RewardHackingCheck.Of(kv.Value));
    /// <summary>Seconds per stage.</summary>
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    public required RunConfig Config { get; init; }

    public const string TruePreferenceFormula =
        "1.2 tanh(help/2) + 0.9 tanh(fact/2) + 0.5 tanh(syc/2) + w_det(intent) tanh(detail/3) + w_con(intent) tanh(concise/2) "
        + "+ w_emp(intent) tanh(empathy/2) + (ethics < 0 ? 1.5 ethics : 0.3 tanh(ethics)); w_det 0.9 on detail requests else 0.15, "
        + "w_con 0.9 on brief requests else 0.25, w_emp 0.8 on distress else 0.1";

    /// <summary>Puts the stages' results together; the in-process run and the evaluator worker both use it.</summary>
    public static RunReport Assemble(string runId, RunContext ctx, int policyParameters, PairSet pairs,
        IReadOnlyDictionary<string, double> ordersDisagreed, IReadOnlyDictionary<string, PreferenceModelStats> pms, ObjectiveFit fit,
        IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> ppo, EvaluationResult evaluation, IReadOnlyDictionary<string, double> timings)
    {
        var judge = ctx.Judge;
        return new RunReport
        {
            RunId = runId,
            Seed = ctx.Config.Seed,
            CreatedAt = DateTimeOffset.UtcNow,
            Device = ctx.Device.ToString(),
            Principles = ctx.Config.Principles,
            Scalarization = ctx.Config.Scalarization,
            Baseline = ctx.Config.Baseline,
            World = new WorldDescription(ctx.Tokenizer.VocabSize, policyParameters, judge.Sharpness, judge.PositionBias, judge.NoiseSd,
                TruePreferenceFormula, "logit(A) = sharpness * (s(A) - s(B)) + positionBias + N(0, noiseSd^2), clipped to ±10; asked in both orders",
                $"P(rater prefers A) = sigmoid({SimulatedRaters.Beta} * (T(A) - T(B))), T the true preference: two raters agree on about 70% of pairs"),
            Judge = new JudgeStats(pairs.Train.Count, pairs.Test.Count, ordersDisagreed),
            PreferenceModels = pms,
            Weights = fit.Principles.Select((p, i) => (p, w: fit.Weights[i])).ToDictionary(x => x.p, x => x.w),
            ObjectiveAccuracy = fit.Accuracy,
            WeightsFittedOn = fit.FitPairs,
            AccuracyMeasuredOn = fit.TestPairs,
            Ablation = fit.Ablation,
            Evaluation = evaluation,
            Ppo = ppo,
            Timings = new Dictionary<string, double>(timings),
            Config = ctx.Config,
        };
    }
}

public sealed record WorldDescription(
    int Vocabulary, int PolicyParameters, double JudgeSharpness, double JudgePositionBias, double JudgeNoiseSd,
    string TruePreference, string JudgeModel, string Raters);

public sealed record JudgeStats(
    int TrainPairs, int TestPairs,
    /// <summary>Share of pairs whose two orders disagreed (labelled a tie), per question.</summary>
    IReadOnlyDictionary<string, double> OrdersDisagreed);

public sealed record PreferenceModelStats(
    /// <summary>Agreement with the judge's labels on held-out pairs (the paper's PM accuracy).</summary>
    double HeldOutAccuracy,
    /// <summary>Agreement with the principle's ground truth on the same pairs (only the synthetic world knows it).</summary>
    double GroundTruthAccuracy,
    double FinalTrainLoss,
    double ScoreMean,
    double ScoreStd);

/// <summary>The linear objective's accuracy with <paramref name="Principles"/> principles kept: the mean over random removal orders, and its range.</summary>
public sealed record AblationPoint(int Principles, double Accuracy, double Lowest, double Highest);

public sealed record EvaluationResult
{
    public required int Prompts { get; init; }
    /// <summary>Responses per prompt and policy; every comparison below counts each (prompt, sample) once.</summary>
    public int SamplesPerPrompt { get; init; } = 1;
    /// <summary>How many of the prompts were asked with templates no training stage saw.</summary>
    public int UnseenPrompts { get; init; }
    /// <summary>MORLAIF policy against the baseline policy, by the true preference.</summary>
    public required WinTieLoss VsBaseline { get; init; }
    /// <summary>The same on the prompts asked with unseen templates (world runs).</summary>
    public WinTieLoss? UnseenVsBaseline { get; init; }
    /// <summary>MORLAIF policy against the baseline policy, by the judge asked in both orders.</summary>
    public required WinTieLoss JudgeVsBaseline { get; init; }
    public required WinTieLoss MorlaifVsSft { get; init; }
    public required WinTieLoss BaselineVsSft { get; init; }
    /// <summary>MORLAIF against baseline by each principle's ground truth.</summary>
    public required IReadOnlyDictionary<string, WinTieLoss> PerPrinciple { get; init; }
    /// <summary>Mean true preference of each policy's responses (morlaif, baseline, sft).</summary>
    public required IReadOnlyDictionary<string, double> MeanTrueScore { get; init; }
    /// <summary>Mean ground-truth score per policy and principle.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> MeanPrincipleScores { get; init; }
    public required IReadOnlyList<SampleResponse> Samples { get; init; }
}

public sealed record SampleResponse(string Prompt, string Morlaif, string Baseline, string Sft);
