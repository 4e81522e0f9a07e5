using MassTransit;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>
/// Makes a stage idempotent under at-least-once delivery. The manifest records a stage's outputs with a
/// claim naming the delivery that produced them (state Publishing), then the event goes out, then the
/// stage is Done. A duplicate of a Done stage does nothing (one output, one event). The delivery that
/// holds the claim (its in-process retries included), or the broker's redelivery of the same message
/// after a crash between recording and publishing, publishes; any other message racing for the same
/// stage (two fan-in events at once, a command sent twice) leaves it to the one that recorded first.
/// The compute step is handed the manifest as stored when the attempt started, so stages need not read it again.
/// </summary>
public sealed class StageGate(IManifestStore manifests, StageCheckpoints checkpoints)
{
    public async Task RunAsync(ConsumeContext context, string runId, string stage,
        Func<RunManifest, Task<StageOutput>> compute,
        Func<Dictionary<string, ArtifactReference>, Task> publish,
        Action<RunManifest>? whenDone = null) =>
        await RunAsync(context, await manifests.ReadAsync(runId, context.CancellationToken) ?? throw new RunNotFoundException(runId),
            stage, compute, publish, whenDone);

    /// <summary>As above, for a consumer that has just read the manifest itself (its Done/Publishing check may be stale; the writes check again).</summary>
    public async Task RunAsync(ConsumeContext context, RunManifest manifest, string stage,
        Func<RunManifest, Task<StageOutput>> compute,
        Func<Dictionary<string, ArtifactReference>, Task> publish,
        Action<RunManifest>? whenDone = null)
    {
        var runId = manifest.RunId;
        var message = context.MessageId?.ToString() ?? Guid.NewGuid().ToString();
        // One token per receive: MassTransit's retries of this delivery share it, another copy of the message does not.
        var me = $"{message}/{context.ReceiveContext.GetOrAddPayload(() => new Delivery()).Token}";
        bool Mine(StageRecord s) => s.Claim == me || (context.ReceiveContext.Redelivered && s.Claim?.StartsWith($"{message}/", StringComparison.Ordinal) == true);

        var record = manifest.Stages.GetValueOrDefault(stage);
        if (record?.State == StageState.Done) return;
        if (record is { State: StageState.Publishing } && !Mine(record)) return;

        Dictionary<string, ArtifactReference> outputs;
        if (record is { State: StageState.Publishing })
        {
            outputs = record.Outputs; // our own earlier attempt recorded them; only the event is missing
        }
        else
        {
            var (current, started) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.State is StageState.Done or StageState.Publishing) return false;
                s.State = StageState.Running;
                s.StartedAt ??= DateTimeOffset.UtcNow;
                s.Attempts++;
                s.Error = null;
                return true;
            }, context.CancellationToken);
            if (!started) return; // another delivery recorded the outputs since the read above, and publishes them
            // The manifest as stored with this attempt: the stage's inputs, without reading it again.
            var result = await compute(current);
            outputs = result.Artifacts;
            StageCheckpoint? retired = null;
            var (stored, _) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.State is StageState.Done or StageState.Publishing) return false;
                s.Outputs = outputs;
                if (result.Seconds is not null) s.Seconds = result.Seconds;
                s.State = StageState.Publishing;
                s.Claim = me;
                // The outputs replace the progress checkpoint in the same write: no moment with neither.
                retired = s.Checkpoint;
                s.Checkpoint = null;
                return true;
            }, context.CancellationToken);
            // Read the claim from what is stored rather than from "this call changed it": when the storage
            // service applied our write but the answer was lost, the retry finds our own claim already there.
            var claim = stored.Stages[stage];
            if (claim.State != StageState.Publishing || !Mine(claim)) return; // another message finished the same work first and publishes it
            if (retired is not null) await checkpoints.DiscardAsync(retired.State, context.CancellationToken);
        }

        await publish(outputs);
        await manifests.UpdateAsync(runId, m =>
        {
            var s = m.Stage(stage);
            s.State = StageState.Done;
            s.CompletedAt = DateTimeOffset.UtcNow;
            whenDone?.Invoke(m); // in the same write, so no reader sees one without the other
            return true;
        }, context.CancellationToken);
    }
}

/// <summary>Identifies one receive of a message (a payload on its ReceiveContext).</summary>
internal sealed class Delivery
{
    public string Token { get; } = Guid.NewGuid().ToString("N");
}

/// <summary>What a stage produced: its artifacts, and optionally how long its parts took.</summary>
public sealed record StageOutput(Dictionary<string, ArtifactReference> Artifacts, Dictionary<string, double>? Seconds = null)
{
    public static implicit operator StageOutput(Dictionary<string, ArtifactReference> artifacts) => new(artifacts);
}
