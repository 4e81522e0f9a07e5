using System.Text.Json;
using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;
using TorchSharp;

namespace Morlaif.Learning.Stages;

/// <summary>A trained PM with its score normalisation and held-out statistics: one principle's artifact.</summary>
public sealed record TrainedPreferenceModel(string Question, PreferenceModel Model, ScoreNormalizer Normalizer, PreferenceModelStats Stats)
{
    /// <summary>The checkpoint kind: the PM's state_dict, and <see cref="Header"/> as its JSON state.</summary>
    public const string CheckpointKind = "preference-model";

    private sealed record Header(string Question, TransformerConfig Model, ScoreNormalizer Normalizer, PreferenceModelStats Stats);

    public byte[] ToBytes() => Checkpoint.Save(CheckpointKind, Model, new Header(Question, Model.Config, Normalizer, Stats));

    /// <summary>The PM of <see cref="ToBytes"/>, on the run's device; InvalidDataException when it is not one, or not of this run's shape.</summary>
    public static TrainedPreferenceModel FromBytes(byte[] bytes, WorldRun context)
    {
        using var c = Checkpoint.FromBytes(bytes, CheckpointKind);
        var header = c.GetState<Header>();
        if (header.Model != context.ModelConfig)
            throw new InvalidDataException($"preference model {header.Question} is a {header.Model}, this run's model is a {context.ModelConfig}");
        var model = new PreferenceModel(context.ModelConfig);
        model.to(context.Device);
        c.LoadModule(model);
        return new TrainedPreferenceModel(header.Question, model, header.Normalizer, header.Stats);
    }

    /// <summary>Only the held-out statistics, from the header (the evaluator's report needs no weights).</summary>
    public static PreferenceModelStats StatsFromBytes(byte[] bytes) => Checkpoint.ReadState<Header>(bytes, CheckpointKind).Stats;
}

/// <summary>
/// The scalarizer's output: the principle weights, the accuracy of every combined objective against the
/// true preference, and the ablation curve.
/// </summary>
public sealed record ObjectiveFit(
    IReadOnlyList<string> Principles,
    IReadOnlyList<double> Weights,
    IReadOnlyList<double> StandardizedCoefficients,
    IReadOnlyDictionary<string, double> Accuracy,
    IReadOnlyList<AblationPoint> Ablation,
    /// <summary>How many labelled pairs the weights were fitted on, and how many decided pairs the accuracies were measured on.</summary>
    int FitPairs = 0,
    int TestPairs = 0)
{
    /// <summary>Which test pairs each objective ranked right, in order (McNemar's test reads them).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<string, bool[]>? Correct { get; init; }

    /// <summary><see cref="Correct"/> as stored: one '1' or '0' per test pair.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("correct")]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? CorrectBits
    {
        get => Correct?.ToDictionary(kv => kv.Key, kv => new string([.. kv.Value.Select(c => c ? '1' : '0')]));
        init => Correct = value?.ToDictionary(kv => kv.Key, kv => kv.Value.Select(c => c == '1').ToArray());
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static ObjectiveFit FromJson(byte[] json) =>
        JsonSerializer.Deserialize<ObjectiveFit>(json, RunConfig.Json) ?? throw new InvalidDataException("objective fit is empty");
}
