using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;
using static TorchSharp.torch;

namespace Morlaif.Workers;

/// <summary>
/// A run's inputs as the learning core's types: reads the manifest and artifacts (hash-verified by the
/// store) and rebuilds the run context, the SFT policy, the pairs, labels and PMs. What it built is cached
/// per run and content hash, because the PPO learner needs the same PMs for every chunk, within a bound
/// (<see cref="ArtifactCacheSettings"/>): the runs a stage is working on (<see cref="Use"/>) stay, the most
/// recent others are kept up to the bound, and whatever is evicted is disposed (models hold native tensors).
/// A long-lived worker's memory is so bounded by the runs it works on, not by the runs it has seen.
/// </summary>
public sealed class RunArtifacts(IArtifactStore store, IManifestStore manifests, Device device, ArtifactCacheSettings settings)
{
    private sealed record Entry(string Key, string RunId, object Value, long Bytes)
    {
        public long LastUsed { get; set; }
    }

    private readonly Dictionary<string, Entry> _entries = new();
    private readonly Dictionary<string, int> _inUse = new();
    private long _clock;

    public IArtifactStore Store => store;

    /// <summary>Pins the run's cached objects while a stage of it computes; they may be evicted once no stage uses them.</summary>
    public IDisposable Use(string runId)
    {
        lock (_entries) _inUse[runId] = _inUse.GetValueOrDefault(runId) + 1;
        return new Release(() =>
        {
            lock (_entries)
            {
                if (--_inUse[runId] == 0) _inUse.Remove(runId);
                Trim();
            }
        });
    }

    public async Task<RunManifest> ManifestAsync(string runId, CancellationToken cancel) =>
        await manifests.ReadAsync(RunIds.Validate(runId), cancel) ?? throw new RunNotFoundException(runId);

    public async Task<RunContext> ContextAsync(RunManifest manifest, CancellationToken cancel) =>
        await CachedAsync(manifest.RunId, manifest.Config, async bytes =>
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

    public Task<PolicyModel> SftPolicyAsync(RunManifest manifest, WorldRun ctx, CancellationToken cancel) =>
        CachedAsync(manifest.RunId, Output(manifest, StageKeys.Sft, StageOutputs.Policy), bytes => Task.FromResult(ctx.LoadPolicy(bytes)), cancel);

    /// <summary>The run's response pairs, over the world's prompts or a dataset's (string) conversations.</summary>
    public Task<PairSet<TPrompt>> PairsAsync<TPrompt>(RunManifest manifest, CancellationToken cancel) =>
        CachedAsync(manifest.RunId, Output(manifest, StageKeys.Sft, StageOutputs.Pairs), bytes => Task.FromResult(PairSet<TPrompt>.FromJson(bytes)), cancel);

    public Task<LabelSet> LabelsAsync(RunManifest manifest, string question, CancellationToken cancel) =>
        CachedAsync(manifest.RunId, Output(manifest, StageKeys.Label(question), StageOutputs.Labels), bytes => Task.FromResult(LabelSet.FromJson(bytes)), cancel);

    public Task<TrainedPreferenceModel> PreferenceModelAsync(RunManifest manifest, WorldRun ctx, string question, CancellationToken cancel) =>
        CachedAsync(manifest.RunId, Output(manifest, StageKeys.TrainPm(question), StageOutputs.Model), bytes => Task.FromResult(TrainedPreferenceModel.FromBytes(bytes, ctx)), cancel);

    /// <summary>Every PM the run trains (<see cref="PmQuestions.All"/>): each question's, and the control and pooled PMs where it trains them.</summary>
    public async Task<Dictionary<string, TrainedPreferenceModel>> PreferenceModelsAsync(RunManifest manifest, WorldRun ctx, CancellationToken cancel)
    {
        var pms = new Dictionary<string, TrainedPreferenceModel>();
        foreach (var q in PmQuestions.All(ctx.Config)) pms[q] = await PreferenceModelAsync(manifest, ctx, q, cancel);
        return pms;
    }

    public Task<ObjectiveFit> ObjectiveAsync(RunManifest manifest, CancellationToken cancel) =>
        CachedAsync(manifest.RunId, Output(manifest, StageKeys.Scalarize, StageOutputs.Objective), bytes => Task.FromResult(ObjectiveFit.FromJson(bytes)), cancel);

    public Task<byte[]> BytesAsync(ArtifactReference reference, CancellationToken cancel) => store.GetAsync(reference, cancel);

    private async Task<T> CachedAsync<T>(string runId, ArtifactReference reference, Func<byte[], Task<T>> load, CancellationToken cancel) where T : class
    {
        var key = $"{runId}/{typeof(T).Name}:{reference.Sha256}";
        lock (_entries)
            if (_entries.TryGetValue(key, out var hit))
            {
                hit.LastUsed = ++_clock;
                return (T)hit.Value;
            }
        var value = await load(await store.GetAsync(reference, cancel));
        lock (_entries)
        {
            if (_entries.TryGetValue(key, out var raced)) // another stage of the run loaded it meanwhile: keep one
            {
                Dispose(value);
                raced.LastUsed = ++_clock;
                return (T)raced.Value;
            }
            _entries[key] = new Entry(key, runId, value, reference.Length) { LastUsed = ++_clock };
            Trim();
        }
        return value;
    }

    /// <summary>
    /// Evicts (and disposes) the cached objects of runs no stage is using, least recently used first, beyond
    /// the most recent <see cref="ArtifactCacheSettings.Runs"/> runs or past <see cref="ArtifactCacheSettings.MaxBytes"/>.
    /// A run in use is never evicted, whatever its size. Called under the lock.
    /// </summary>
    private void Trim()
    {
        var idle = _entries.Values.Where(e => !_inUse.ContainsKey(e.RunId)).ToList();
        var keptRuns = idle.GroupBy(e => e.RunId).OrderByDescending(g => g.Max(e => e.LastUsed)).Take(settings.Runs).Select(g => g.Key).ToHashSet();
        var bytes = _entries.Values.Sum(e => e.Bytes);
        foreach (var e in idle.OrderBy(e => e.LastUsed))
        {
            if (keptRuns.Contains(e.RunId) && bytes <= settings.MaxBytes) continue;
            _entries.Remove(e.Key);
            bytes -= e.Bytes;
            Dispose(e.Value);
        }
    }

    private static void Dispose(object value)
    {
        switch (value)
        {
            case IDisposable d: d.Dispose(); break;
            case TrainedPreferenceModel pm: pm.Model.Dispose(); break;
        }
    }

    private sealed class Release(Action release) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) release();
        }
    }
}

/// <summary>How much a worker keeps of runs it is not working on (bound from Morlaif:Cache).</summary>
public sealed class ArtifactCacheSettings
{
    /// <summary>Idle runs whose models stay cached (the next chunk of a PPO arm, the other arm).</summary>
    public int Runs { get; set; } = 1;

    /// <summary>Bytes (as stored) of cached artifacts beyond which idle runs are evicted, whatever <see cref="Runs"/> says.</summary>
    public long MaxBytes { get; set; } = 2L << 30;
}
