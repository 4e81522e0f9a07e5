using System.Text.Json.Serialization;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Runs;

/// <summary>
/// Everything a run measured, whatever its model family; serialised as report.json (camelCase) and summarised in
/// report.md (<see cref="ReportFiles"/>). The parts only a truth can measure (the synthetic world's) are absent where
/// there is none, and the parts only a Hugging Face model has are absent for the world.
/// </summary>
public sealed record RunReport
{
    public required string RunId { get; init; }
    public required long Seed { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Device { get; init; }
    public required IReadOnlyList<string> Principles { get; init; }
    public required string Scalarization { get; init; }
    public required string Baseline { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WorldDescription? World { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ModelDescription? Model { get; init; }
    public required JudgeStats Judge { get; init; }
    /// <summary>One entry per principle, plus the baseline's single PM ("constitution" or "overall").</summary>
    public required IReadOnlyDictionary<string, PreferenceModelStats> PreferenceModels { get; init; }
    public required IReadOnlyDictionary<string, double> Weights { get; init; }
    /// <summary>Accuracy of each scalarization function, and of the single PM ("single"), on the held-out decided pairs.</summary>
    public required IReadOnlyDictionary<string, double> ObjectiveAccuracy { get; init; }
    /// <summary>How many rater-labelled pairs the weights were fitted on, and on how many decided pairs the accuracies were measured.</summary>
    public int WeightsFittedOn { get; init; }
    public int AccuracyMeasuredOn { get; init; }
    public required IReadOnlyList<AblationPoint> Ablation { get; init; }
    /// <summary>The compared policies on held-out prompts; absent when the run trains no policies (arms: []).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EvaluationResult? Evaluation { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> Ppo { get; init; }
    /// <summary>Per arm: did the proxy reward rise while the rollouts' true preference fell (see <see cref="RewardHackingCheck"/>)? Only where a truth is known.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, RewardHackingCheck?>? RewardHacking =>
        Ppo.Values.Any(stats => stats.Any(s => s.Truth is not null)) ? Ppo.ToDictionary(kv => kv.Key, kv => RewardHackingCheck.Of(kv.Value)) : null;
    /// <summary>Per arm the judge watched: its principles' flags, and where a truth is known whether it agrees with <see cref="RewardHacking"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, ArmMonitor>? Monitor =>
        Ppo.Select(kv => (kv.Key, Monitor: ArmMonitor.Of(kv.Value))).Where(x => x.Monitor is not null).ToDictionary(x => x.Key, x => x.Monitor!) is { Count: > 0 } m ? m : null;
    /// <summary>Seconds per stage.</summary>
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    public required RunConfig Config { get; init; }

    /// <summary>Puts the stages' results together (<see cref="World"/> and <see cref="Model"/> are the model family's to add).</summary>
    public static RunReport Assemble(string runId, RunConfig config, string device, JudgeStats judge, IReadOnlyDictionary<string, PreferenceModelStats> pms,
        ObjectiveFit fit, IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> ppo, EvaluationResult? evaluation, IReadOnlyDictionary<string, double> timings) => new()
    {
        RunId = runId,
        Seed = config.Seed,
        CreatedAt = DateTimeOffset.UtcNow,
        Device = device,
        Principles = config.Principles,
        Scalarization = config.Scalarization,
        Baseline = config.Baseline,
        Judge = judge,
        PreferenceModels = pms,
        Weights = fit.Principles.Select((p, i) => (p, w: fit.Weights[i])).ToDictionary(x => x.p, x => x.w),
        ObjectiveAccuracy = fit.Accuracy,
        WeightsFittedOn = fit.FitPairs,
        AccuracyMeasuredOn = fit.TestPairs,
        Ablation = fit.Ablation,
        Evaluation = evaluation,
        Ppo = ppo,
        Timings = new Dictionary<string, double>(timings),
        Config = config,
    };
}

public sealed record WorldDescription(
    int Vocabulary, int PolicyParameters, double JudgeSharpness, double JudgePositionBias, double JudgeNoiseSd,
    string TruePreference, string JudgeModel, string Raters)
{
    public const string TruePreferenceFormula =
        "1.2 tanh(help/2) + 0.9 tanh(fact/2) + 0.5 tanh(syc/2) + w_det(intent) tanh(detail/3) + w_con(intent) tanh(concise/2) "
        + "+ w_emp(intent) tanh(empathy/2) + (ethics < 0 ? 1.5 ethics : 0.3 tanh(ethics)); w_det 0.9 on detail requests else 0.15, "
        + "w_con 0.9 on brief requests else 0.25, w_emp 0.8 on distress else 0.1";

    public static WorldDescription Of(WorldRun ctx, int policyParameters)
    {
        var judge = ctx.Judge;
        return new WorldDescription(ctx.Tokenizer.VocabSize, policyParameters, judge.Sharpness, judge.PositionBias, judge.NoiseSd,
            TruePreferenceFormula, "logit(A) = sharpness * (s(A) - s(B)) + positionBias + N(0, noiseSd^2), clipped to ±10; asked in both orders",
            $"P(rater prefers A) = sigmoid({SimulatedRaters.Beta} * (T(A) - T(B))), T the true preference: two raters agree on about 70% of pairs");
    }
}

/// <summary>A Hugging Face run's policy: its folder's name, its parameter count, and the SFT adapter's loss per epoch (none without SFT data).</summary>
public sealed record ModelDescription(string Name, long Parameters, IReadOnlyList<double>? SftLosses);

public sealed record JudgeStats(
    int TrainPairs, int TestPairs,
    /// <summary>Share of pairs whose two orders disagreed (labelled a tie), per question.</summary>
    IReadOnlyDictionary<string, double> OrdersDisagreed,
    /// <summary>Questions a chat judge could not answer, per question (the world's judge always answers).</summary>
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, int>? Abstentions = null,
    /// <summary>Pairs whose two responses stayed the same after every redraw (a judge cannot prefer one; the world draws other prompts instead).</summary>
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? IdenticalPairs = null);

public sealed record PreferenceModelStats(
    /// <summary>Agreement with the judge's labels on held-out pairs (the paper's PM accuracy).</summary>
    double HeldOutAccuracy,
    /// <summary>Agreement with the principle's ground truth on the same pairs (only the synthetic world knows it).</summary>
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? GroundTruthAccuracy,
    double FinalTrainLoss,
    double ScoreMean,
    double ScoreStd,
    /// <summary>The fresh PM's loss on its training labels (reported for Hugging Face PMs).</summary>
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? InitialTrainLoss = null);

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
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WinTieLoss? VsBaseline { get; init; }
    /// <summary>The same on the prompts asked with unseen templates (world runs).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WinTieLoss? UnseenVsBaseline { get; init; }
    /// <summary>MORLAIF policy against the baseline policy, by the judge asked in both orders.</summary>
    public required WinTieLoss JudgeVsBaseline { get; init; }
    /// <summary>Comparisons a chat judge could not answer (counted as ties above).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? JudgeAbstentions { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WinTieLoss? MorlaifVsSft { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WinTieLoss? BaselineVsSft { get; init; }
    /// <summary>MORLAIF against baseline by each principle's ground truth.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, WinTieLoss>? PerPrinciple { get; init; }
    /// <summary>Mean true preference of each policy's responses (morlaif, baseline, sft).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? MeanTrueScore { get; init; }
    /// <summary>Mean ground-truth score per policy and principle.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? MeanPrincipleScores { get; init; }
    public required IReadOnlyList<SampleResponse> Samples { get; init; }
}

/// <summary>One held-out prompt's answers; the SFT policy's where a truth compares it, the judge's verdict where no truth does.</summary>
public sealed record SampleResponse(string Prompt, string Morlaif, string Baseline,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sft = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Verdict = null);
