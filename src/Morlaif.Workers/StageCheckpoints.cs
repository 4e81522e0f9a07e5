using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Storage;
using Polly;
using Polly.Retry;

namespace Morlaif.Workers;

/// <summary>
/// Progress inside a long stage, so a worker that dies (or a message that is redelivered) resumes from
/// the last completed epoch or iteration instead of from zero. A checkpoint is an artifact of kind
/// "resume-&lt;stage&gt;" referenced from the stage's manifest record together with its step and a
/// fingerprint of the stage's inputs; only the latest is kept, and none once the stage has its outputs
/// (<see cref="StageGate"/> retires it in the write that records them).
/// A checkpoint that cannot be used (missing, corrupt, from other inputs) is logged and ignored: it can
/// only cost time, never change a result.
/// </summary>
public sealed class StageCheckpoints(IArtifactStore store, IManifestStore manifests, ILogger<StageCheckpoints> log)
{
    /// <summary>A fingerprint of the artifacts a stage computes from.</summary>
    public static string Fingerprint(params IEnumerable<ArtifactReference> inputs) =>
        ArtifactNames.Sha256(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', inputs.Select(i => i.Sha256))));

    /// <summary>
    /// The stage's state restored from its latest usable checkpoint in <paramref name="manifest"/> (as stored
    /// when the attempt started), or <paramref name="fresh"/> when there is none; the manifest records the
    /// step the attempt resumed from. A checkpoint that is missing, damaged, or that <paramref name="restore"/>
    /// rejects (InvalidDataException: another kind or format, say) is logged and passed over.
    /// </summary>
    public async Task<T> ResumeAsync<T>(RunManifest manifest, string stage, string inputs, Func<byte[], T> restore, Func<Task<T>> fresh,
        CancellationToken cancel)
    {
        var runId = manifest.RunId;
        var record = manifest.Stages.GetValueOrDefault(stage);
        var checkpoint = record?.Checkpoint;
        var resumed = false;
        T state = default!;
        if (checkpoint is not null && checkpoint.Inputs == inputs)
        {
            try
            {
                state = restore(await store.GetAsync(checkpoint.State, cancel));
                resumed = true;
            }
            catch (Exception e) when (e is ArtifactNotFoundException or ArtifactIntegrityException or InvalidDataException)
            {
                log.LogWarning("run {RunId}: {Stage} checkpoint at step {Step} is unusable ({Reason}); starting from zero", runId, stage, checkpoint.Step, e.Message);
            }
        }
        int? resumedFrom = resumed ? checkpoint!.Step : null;
        if (record?.ResumedFrom != resumedFrom) // a first attempt has nothing to record
            await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.ResumedFrom == resumedFrom) return false;
                s.ResumedFrom = resumedFrom;
                return true;
            }, cancel);
        if (!resumed) return await fresh();
        log.LogInformation("run {RunId}: {Stage} resumes from its checkpoint at step {Step}", runId, stage, checkpoint!.Step);
        return state;
    }

    /// <summary>
    /// Records how far the stage is (and counts as a heartbeat). Progress is for people watching: a write that fails is
    /// logged and the stage goes on.
    /// </summary>
    public async Task ProgressAsync(string runId, string stage, StageProgress progress, CancellationToken cancel)
    {
        try
        {
            await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.Produced) return false;
                s.Progress = progress with { At = DateTimeOffset.UtcNow };
                s.Heartbeat = s.Progress.At;
                return true;
            }, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("run {RunId}: {Stage} progress not recorded ({Reason})", runId, stage, e.Message);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> while recording its progress every few seconds from a counter it updates (a judge's
    /// answers arrive from many requests at once), and once more when it is done.
    /// </summary>
    public async Task<T> WithProgressAsync<T>(string runId, string stage, Func<StageProgress?> current, Func<Task<T>> work, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var reports = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    if (current() is { } p) await ProgressAsync(runId, stage, p, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // the work is done
            }
        }, CancellationToken.None);
        try
        {
            return await work();
        }
        finally
        {
            await stop.CancelAsync();
            await reports;
            if (!cancel.IsCancellationRequested && current() is { } last) await ProgressAsync(runId, stage, last, cancel);
        }
    }

    /// <summary>
    /// Called between two steps of a long stage. A worker asked to stop (SIGTERM: a scale-in, a rollout; MassTransit
    /// cancels the token of the message in hand as its bus stops) starts no further step: the last one is checkpointed,
    /// and the cancellation hands the message back to its queue unacknowledged, not as a fault, for the next worker to
    /// resume. The step in hand when the signal came is finished and checkpointed with an uncancelled token, so nothing
    /// done is lost; how long that may take is the host's shutdown timeout (Morlaif:ShutdownTimeoutSeconds).
    /// </summary>
    public void HandBackIfStopping(string runId, string stage, int step, CancellationToken cancel)
    {
        if (!cancel.IsCancellationRequested) return;
        log.LogWarning("run {RunId}: {Stage} stops at step {Step}, its checkpoint; the message goes back to the queue", runId, stage, step);
        cancel.ThrowIfCancellationRequested();
    }

    /// <summary>Stores the checkpoint, points the stage's record at it, and removes the one it replaces.</summary>
    public async Task SaveAsync(string runId, string stage, string inputs, int step, byte[] state, CancellationToken cancel)
    {
        // Only a stage the pipeline declares long is resumed from checkpoints (and has them retired with its outputs).
        if (!Pipeline.PipelineDefinition.OfKey(stage).Long) throw new InvalidOperationException($"{stage} is not a long stage: it has no checkpoints");
        var reference = await store.PutAsync(runId, Kind(stage), state, cancel);
        // From here the blob exists, so it ends up either recorded or deleted, whatever happens to this attempt:
        // the broker dropping its connection cancels the consumer's token, and a cancelled write or delete here
        // left a checkpoint no record pointed at.
        StageCheckpoint? replaced = null;
        var recorded = false;
        try
        {
            (_, recorded) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.Produced) return false;
                // The storage service may have applied an earlier try of this write whose answer was lost: the
                // checkpoint found is then this one, and the one it replaced is what that try found.
                if (s.Checkpoint?.State.Name != reference.Name) replaced = s.Checkpoint;
                s.Checkpoint = new StageCheckpoint(step, reference, inputs);
                s.Heartbeat = DateTimeOffset.UtcNow;
                return true;
            }, CancellationToken.None);
        }
        finally
        {
            // Not recorded: a copy of the message finished the stage first and cleared its checkpoint (this one
            // is moot), or the write failed (a checkpoint only ever saves time, so it is dropped).
            if (!recorded) await DiscardAsync(reference);
        }
        if (replaced is not null && replaced.State.Name != reference.Name) await DiscardAsync(replaced.State);
        cancel.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Deletes a checkpoint no record points at any more (superseded, or retired with the stage's outputs).
    /// Never cancelled, and tried again for about half a minute past the storage client's own retries (about 13 s):
    /// once unreferenced, a blob whose delete failed would stay for good (seen in CI, with storage refusing
    /// connections for 8 s).
    /// </summary>
    public async Task DiscardAsync(ArtifactReference reference)
    {
        try
        {
            await Deletes.ExecuteAsync(async token => await store.DeleteAsync(reference, token), CancellationToken.None);
        }
        catch (Exception e)
        {
            // A leftover checkpoint costs space, not correctness.
            log.LogWarning("could not delete superseded checkpoint {Name}: {Reason}", reference.Name, e.Message);
        }
    }

    private static readonly ResiliencePipeline Deletes = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 4,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromSeconds(2),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(),
        })
        .Build();

    /// <summary>"resume-" and the stage key with its separators as dashes ("train-pm/helpfulness" → "resume-train-pm-helpfulness").</summary>
    private static string Kind(string stage) => ArtifactNames.Kind("resume-" + stage);
}
