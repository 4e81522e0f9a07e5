using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>
/// Progress inside a long stage, so a worker that dies (or a message that is redelivered) resumes from
/// the last completed epoch or iteration instead of from zero. A checkpoint is an artifact of kind
/// "resume-&lt;stage&gt;" referenced from the stage's manifest record together with its step and a
/// fingerprint of the stage's inputs; only the latest is kept, and none once the stage has its outputs.
/// A checkpoint that cannot be used (missing, corrupt, from other inputs) is logged and ignored: it can
/// only cost time, never change a result.
/// </summary>
public sealed class StageCheckpoints(IArtifactStore store, IManifestStore manifests, ILogger<StageCheckpoints> log)
{
    /// <summary>A fingerprint of the artifacts a stage computes from.</summary>
    public static string Fingerprint(params IEnumerable<ArtifactReference> inputs) =>
        ArtifactNames.Sha256(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', inputs.Select(i => i.Sha256))));

    /// <summary>
    /// The latest usable checkpoint (step and state) in <paramref name="manifest"/> (as read when the attempt
    /// started), recording in the manifest that the attempt resumes from it; null to start from zero.
    /// </summary>
    public async Task<(int Step, byte[] State)?> ResumeAsync(RunManifest manifest, string stage, string inputs, CancellationToken cancel)
    {
        var runId = manifest.RunId;
        var checkpoint = manifest.Stages.GetValueOrDefault(stage)?.Checkpoint;
        byte[]? state = null;
        if (checkpoint is not null && checkpoint.Inputs == inputs)
        {
            try
            {
                state = await store.GetAsync(checkpoint.State, cancel);
            }
            catch (Exception e) when (e is ArtifactNotFoundException or ArtifactIntegrityException)
            {
                log.LogWarning("run {RunId}: {Stage} checkpoint at step {Step} is unusable ({Reason}); starting from zero", runId, stage, checkpoint.Step, e.Message);
            }
        }
        int? resumedFrom = state is null ? null : checkpoint!.Step;
        await manifests.UpdateAsync(runId, m =>
        {
            var s = m.Stage(stage);
            if (s.ResumedFrom == resumedFrom) return false; // the usual case, a first attempt: no write
            s.ResumedFrom = resumedFrom;
            return true;
        }, cancel);
        if (state is null) return null;
        log.LogInformation("run {RunId}: {Stage} resumes from its checkpoint at step {Step}", runId, stage, checkpoint!.Step);
        return (checkpoint.Step, state);
    }

    /// <summary>Stores the checkpoint, points the stage's record at it, and removes the one it replaces.</summary>
    public async Task SaveAsync(string runId, string stage, string inputs, int step, byte[] state, CancellationToken cancel)
    {
        var reference = await store.PutAsync(runId, Kind(stage), state, cancel);
        StageCheckpoint? replaced = null;
        var (_, recorded) = await manifests.UpdateAsync(runId, m =>
        {
            var s = m.Stage(stage);
            if (s.Produced) return false;
            replaced = s.Checkpoint;
            s.Checkpoint = new StageCheckpoint(step, reference, inputs);
            return true;
        }, cancel);
        // A copy of the message finished the stage first and cleared its checkpoint: this one is moot, and
        // nothing references the blob just written.
        if (!recorded) await DeleteQuietlyAsync(reference, cancel);
        else if (replaced is not null && replaced.State.Name != reference.Name) await DeleteQuietlyAsync(replaced.State, cancel);
    }

    /// <summary>Once the stage's outputs are stored, its checkpoint is no longer needed.</summary>
    public async Task ClearAsync(string runId, string stage, CancellationToken cancel)
    {
        StageCheckpoint? last = null;
        await manifests.UpdateAsync(runId, m =>
        {
            var s = m.Stage(stage);
            last = s.Checkpoint;
            s.Checkpoint = null;
            return last is not null;
        }, cancel);
        if (last is not null) await DeleteQuietlyAsync(last.State, cancel);
    }

    private async Task DeleteQuietlyAsync(ArtifactReference reference, CancellationToken cancel)
    {
        try
        {
            await store.DeleteAsync(reference, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A leftover checkpoint costs space, not correctness; the next save or clear tries again for its own.
            log.LogWarning("could not delete superseded checkpoint {Name}: {Reason}", reference.Name, e.Message);
        }
    }

    /// <summary>"resume-" and the stage key with its separators as dashes ("train-pm/helpfulness" → "resume-train-pm-helpfulness").</summary>
    private static string Kind(string stage) => "resume-" + stage.Replace('/', '-');
}
