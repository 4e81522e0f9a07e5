using System.Text.Json.Serialization;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;

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
    /// <summary>One entry per principle, plus "overall" for the baseline's single PM.</summary>
    public required IReadOnlyDictionary<string, PreferenceModelStats> PreferenceModels { get; init; }
    public required IReadOnlyDictionary<string, double> Weights { get; init; }
    /// <summary>Accuracy against the true preference of each scalarization function, and of the single PM ("single").</summary>
    public required IReadOnlyDictionary<string, double> ObjectiveAccuracy { get; init; }
    public required IReadOnlyList<AblationPoint> Ablation { get; init; }
    public required EvaluationResult Evaluation { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> Ppo { get; init; }
    /// <summary>Seconds per stage.</summary>
    public required IReadOnlyDictionary<string, double> Timings { get; init; }
    public required RunConfig Config { get; init; }
}

public sealed record WorldDescription(
    int Vocabulary, int PolicyParameters, double JudgeSharpness, double JudgePositionBias, double JudgeNoiseSd,
    string TruePreference, string JudgeModel);

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

public sealed record AblationPoint(IReadOnlyList<string> Principles, double Accuracy);

public sealed record EvaluationResult
{
    public required int Prompts { get; init; }
    /// <summary>MORLAIF policy against the baseline policy, by the true preference.</summary>
    public required WinTieLoss VsBaseline { get; init; }
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
