using System.Collections.Concurrent;
using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using static TorchSharp.torch;

namespace Morlaif.Workers;

/// <summary>
/// A run's inputs as the learning core's types: reads the manifest and artifacts (hash-verified by the
/// store) and rebuilds the run context, the SFT policy, the pairs, labels and PMs. Models are cached by
/// content hash, because the PPO learner needs the same PMs for every chunk.
/// </summary>
public sealed class RunArtifacts(IArtifactStore store, IManifestStore manifests, Device device)
{
    private readonly ConcurrentDictionary<string, object> _cache = new();

    public IArtifactStore Store => store;

    public async Task<RunManifest> ManifestAsync(string runId, CancellationToken cancel) =>
        await manifests.ReadAsync(RunIds.Validate(runId), cancel) ?? throw new RunNotFoundException(runId);

    public async Task<RunContext> ContextAsync(RunManifest manifest, CancellationToken cancel) =>
        await CachedAsync(manifest.Config, async bytes =>
            new RunContext(RunConfig.Parse(System.Text.Encoding.UTF8.GetString(bytes), $"run {manifest.RunId} config"), device), cancel);

    /// <summary>
    /// The artifact a completed stage recorded under <paramref name="output"/>. A message for a stage whose
    /// inputs do not exist yet is bad input (the events arrive only after their outputs are recorded), so
    /// this is InvalidDataException: not retried, the run is marked Faulted with this reason.
    /// </summary>
    public static ArtifactReference Output(RunManifest manifest, string stage, string output) =>
        manifest.Stages.TryGetValue(stage, out var s) && s.Outputs.TryGetValue(output, out var r)
            ? r
            : throw new InvalidDataException($"run {manifest.RunId}: stage '{stage}' has no output '{output}' yet");

    public Task<PolicyModel> SftPolicyAsync(RunManifest manifest, RunContext ctx, CancellationToken cancel) =>
        CachedAsync(Output(manifest, StageKeys.Sft, "policy"), bytes => Task.FromResult(ctx.LoadPolicy(bytes)), cancel);

    public Task<PairSet> PairsAsync(RunManifest manifest, CancellationToken cancel) =>
        CachedAsync(Output(manifest, StageKeys.Sft, "pairs"), bytes => Task.FromResult(PairSet.FromJson(bytes)), cancel);

    public Task<LabelSet> LabelsAsync(RunManifest manifest, string question, CancellationToken cancel) =>
        CachedAsync(Output(manifest, StageKeys.Label(question), "labels"), bytes => Task.FromResult(LabelSet.FromJson(bytes)), cancel);

    public Task<TrainedPreferenceModel> PreferenceModelAsync(RunManifest manifest, RunContext ctx, string question, CancellationToken cancel) =>
        CachedAsync(Output(manifest, StageKeys.TrainPm(question), "model"), bytes => Task.FromResult(TrainedPreferenceModel.FromBytes(bytes, ctx)), cancel);

    public async Task<Dictionary<string, TrainedPreferenceModel>> PreferenceModelsAsync(RunManifest manifest, RunContext ctx, CancellationToken cancel)
    {
        var pms = new Dictionary<string, TrainedPreferenceModel>();
        foreach (var q in ctx.Questions) pms[q] = await PreferenceModelAsync(manifest, ctx, q, cancel);
        return pms;
    }

    public Task<ObjectiveFit> ObjectiveAsync(RunManifest manifest, CancellationToken cancel) =>
        CachedAsync(Output(manifest, StageKeys.Scalarize, "objective"), bytes => Task.FromResult(ObjectiveFit.FromJson(bytes)), cancel);

    public Task<byte[]> BytesAsync(ArtifactReference reference, CancellationToken cancel) => store.GetAsync(reference, cancel);

    private async Task<T> CachedAsync<T>(ArtifactReference reference, Func<byte[], Task<T>> load, CancellationToken cancel) where T : class
    {
        var key = $"{typeof(T).Name}:{reference.Sha256}";
        if (_cache.TryGetValue(key, out var hit)) return (T)hit;
        var value = await load(await store.GetAsync(reference, cancel));
        _cache[key] = value;
        return value;
    }
}
