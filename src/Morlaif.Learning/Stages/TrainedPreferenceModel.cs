using System.Text.Json;
using TorchSharp;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Weights;

namespace Morlaif.Learning.Stages;

/// <summary>A trained PM with its score normalisation and held-out statistics: one principle's artifact.</summary>
public sealed record TrainedPreferenceModel(string Question, PreferenceModel Model, ScoreNormalizer Normalizer, PreferenceModelStats Stats)
{
    private const string Magic = "MORLAIF-PM";
    private const int FormatVersion = 1;

    private sealed record Header(string Question, ScoreNormalizer Normalizer, PreferenceModelStats Stats);

    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(JsonSerializer.Serialize(new Header(Question, Normalizer, Stats), RunConfig.Json));
            var weights = ModuleWeights.Save(Model);
            w.Write(weights.Length);
            w.Write(weights);
        }
        return ms.ToArray();
    }

    public static TrainedPreferenceModel FromBytes(byte[] bytes, RunContext context)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        var header = ReadHeader(r);
        var model = new PreferenceModel(context.ModelConfig);
        ModuleWeights.Load(model, r.ReadBytes(r.ReadInt32()));
        model.to(context.Device);
        return new TrainedPreferenceModel(header.Question, model, header.Normalizer, header.Stats);
    }

    /// <summary>Only the held-out statistics, without building the model (the evaluator's report needs no weights).</summary>
    public static PreferenceModelStats StatsFromBytes(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        return ReadHeader(r).Stats;
    }

    private static Header ReadHeader(BinaryReader r)
    {
        if (r.ReadString() != Magic) throw new InvalidDataException("not a MORLAIF preference model");
        var version = r.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"preference model format {version} is not supported (expected {FormatVersion})");
        return JsonSerializer.Deserialize<Header>(r.ReadString(), RunConfig.Json) ?? throw new InvalidDataException("preference model header is empty");
    }
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
    IReadOnlyList<AblationPoint> Ablation)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RunConfig.Json);

    public static ObjectiveFit FromJson(byte[] json) =>
        JsonSerializer.Deserialize<ObjectiveFit>(json, RunConfig.Json) ?? throw new InvalidDataException("objective fit is empty");
}
