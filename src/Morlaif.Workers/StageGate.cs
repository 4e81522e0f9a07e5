using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Storage;
using Morlaif.Workers.Monitoring;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Supervision;

namespace Morlaif.Workers;

/// <summary>
/// Makes a stage idempotent under at-least-once delivery. The manifest records a stage's outputs with a
/// claim naming the delivery that produced them (state Publishing), then the event goes out, then the
/// stage is Done. A duplicate of a Done stage does nothing (one output, one event). The delivery that
/// holds the claim (its in-process retries included), or the broker's redelivery of the same message
/// after a crash between recording and publishing, publishes; any other message racing for the same
/// stage (two fan-in events at once, a command sent twice) leaves it to the one that recorded first. A
/// claim the supervisor released (its holder stopped moving) is taken by the next delivery.
/// While it computes, the attempt beats its record's heartbeat, so the supervisor can tell a slow stage
/// from a stalled one. An input that the manifest references but the store no longer has is not a
/// fault: the record that produced it is computed again (<see cref="LostOutputs"/>).
/// The compute step is handed the manifest as stored when the attempt started, so stages need not read it again.
/// </summary>
public sealed class StageGate(IManifestStore manifests, RunArtifacts artifacts, StageCheckpoints checkpoints, LostOutputs lost,
    SupervisionSettings supervision, ILogger<StageGate> log)
{
    public async Task<GateResult> RunAsync(ConsumeContext context, string runId, string stage, Func<RunManifest, Task<StageOutput>> compute) =>
        await RunAsync(context, await manifests.ReadAsync(runId, context.CancellationToken) ?? throw new RunNotFoundException(runId), stage, compute);

    /// <summary>
    /// As above, for a consumer that has just read the manifest itself (its Done/Publishing check may be stale; the
    /// writes check again). Once recorded, the record's announcement (<see cref="PipelineStage.Announce"/>) goes out.
    /// </summary>
    public async Task<GateResult> RunAsync(ConsumeContext context, RunManifest manifest, string stage, Func<RunManifest, Task<StageOutput>> compute)
    {
        var runId = manifest.RunId;
        var cancel = context.CancellationToken;
        // Every line logged for this record, by whichever class, names the record (Morlaif.Hosting.StageLogging).
        using var scope = log.BeginScope(new Dictionary<string, object> { ["Stage"] = stage });
        var message = context.MessageId?.ToString() ?? Guid.NewGuid().ToString();
        // One token per receive: MassTransit's retries of this delivery share it, another copy of the message does not.
        var me = $"{message}/{context.ReceiveContext.GetOrAddPayload(() => new Delivery()).Token}";
        bool Mine(StageRecord s) => s.Claim == me || (context.ReceiveContext.Redelivered && s.Claim?.StartsWith($"{message}/", StringComparison.Ordinal) == true);

        var record = manifest.Stages.GetValueOrDefault(stage);
        if (PipelineDefinition.IsDone(manifest, stage)) return GateResult.AlreadyDone;
        var plan = RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, cancel)).Config);
        var definition = PipelineDefinition.OfKey(stage);
        // A fan-in hears from each of its inputs; every event but the one of its last input finds others missing.
        // Its command (a replay, the supervisor) is not counted out: it runs or records what it waits for.
        if (definition.FanIn && !context.HasMessageType(definition.Command) && PipelineDefinition.Missing(manifest, plan, stage) is { Count: > 0 } pending)
        {
            log.LogInformation("run {RunId}: {Stage} waits for {Missing}", runId, stage, string.Join(", ", pending));
            return GateResult.WaitingForInput;
        }
        if (record is { State: StageState.Publishing, Claim: null })
        {
            // The supervisor released a claim whose holder stopped moving: take it, and publish what it recorded.
            var (taken, _) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s is not { State: StageState.Publishing, Claim: null }) return false;
                s.Claim = me;
                s.Heartbeat = DateTimeOffset.UtcNow;
                return true;
            }, cancel);
            record = taken.Stages[stage];
        }
        if (record is { State: StageState.Publishing } && !Mine(record)) return GateResult.LeftToAnother;

        Dictionary<string, ArtifactReference> outputs;
        if (record is { State: StageState.Publishing })
        {
            outputs = record.Outputs; // our own earlier attempt recorded them; only the event is missing
        }
        else
        {
            var missing = new List<string>();
            var (current, started) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.State == StageState.Publishing || PipelineDefinition.IsDone(m, stage)) return false;
                // The stored manifest, not the one this message was handled with, says whether the inputs exist:
                // a manifest that went back to an earlier state (a store that lost acknowledged writes) or a
                // command sent early is not bad input. The record waits for its first missing input, whose
                // completion sends its command again (or the supervisor, if that input is stalled too).
                missing = PipelineDefinition.Missing(m, plan, stage);
                if (missing.Count > 0)
                {
                    if (s.State == StageState.Running) s.State = StageState.Pending;
                    if (s.WaitingFor == missing[0]) return false;
                    s.WaitingFor = missing[0];
                    s.Heartbeat = DateTimeOffset.UtcNow;
                    return true;
                }
                s.State = StageState.Running;
                s.StartedAt ??= DateTimeOffset.UtcNow;
                s.Heartbeat = DateTimeOffset.UtcNow;
                s.Attempts++;
                s.Error = null;
                return true;
            }, cancel);
            if (missing.Count > 0)
            {
                log.LogWarning("run {RunId}: {Stage} asked for, but its inputs {Missing} are not produced in the stored manifest: waiting for them",
                    runId, stage, string.Join(", ", missing));
                return GateResult.WaitingForInput;
            }
            if (!started) return GateResult.LeftToAnother; // another delivery recorded the outputs since the read above, and publishes them
            StageOutput result;
            try
            {
                // The run's models stay cached while this attempt uses them, and may be evicted after.
                using var inUse = artifacts.Use(runId);
                // The manifest as stored with this attempt: the stage's inputs, without reading it again.
                // One span (and stage.duration measurement) per attempt: Monitoring/MorlaifTelemetry.
                result = await MorlaifTelemetry.AttemptAsync(runId, stage, current.Stages[stage].Attempts,
                    () => WithHeartbeat(runId, stage, () => compute(current), cancel));
            }
            catch (ArtifactNotFoundException e)
            {
                if (await lost.RecomputeProducerAsync(context, current, stage, e.Reference, cancel)) return GateResult.WaitingForInput;
                throw;
            }
            outputs = result.Artifacts;
            StageCheckpoint? retired = null;
            var (stored, _) = await manifests.UpdateAsync(runId, m =>
            {
                var s = m.Stage(stage);
                if (s.State == StageState.Publishing || PipelineDefinition.IsDone(m, stage)) return false;
                s.Outputs = outputs;
                if (result.Seconds is not null) s.Seconds = result.Seconds;
                s.State = StageState.Publishing;
                s.Claim = me;
                s.Heartbeat = DateTimeOffset.UtcNow;
                // The outputs replace the progress checkpoint in the same write: no moment with neither.
                retired = s.Checkpoint;
                s.Checkpoint = null;
                return true;
            }, cancel);
            // Read the claim from what is stored rather than from "this call changed it": when the storage
            // service applied our write but the answer was lost, the retry finds our own claim already there.
            var claim = stored.Stages[stage];
            if (claim.State != StageState.Publishing || !Mine(claim)) return GateResult.LeftToAnother; // another message finished the same work first and publishes it
            if (retired is not null) await checkpoints.DiscardAsync(retired.State);
        }

        await AnnounceAsync(context, definition, runId, stage, outputs, plan);
        var waiting = new List<string>();
        var settled = new List<string>();
        await manifests.UpdateAsync(runId, m =>
        {
            var s = m.Stage(stage);
            // A manifest that went back to an earlier state (a store that lost acknowledged writes) may have lost the
            // record of these outputs while their event is already out: write them again with Done, never Done without them.
            if (s.State != StageState.Done || !PipelineDefinition.Holds(m, stage)) s.Outputs = outputs;
            s.State = StageState.Done;
            s.CompletedAt = DateTimeOffset.UtcNow;
            if (definition.CompletesRun) m.State = RunState.Completed; // in the same write, so no reader sees one without the other
            settled = PipelineDefinition.Settle(m, plan, DateTimeOffset.UtcNow);
            waiting.Clear();
            foreach (var (key, w) in m.Stages.Where(kv => kv.Value.WaitingFor == stage))
            {
                w.WaitingFor = null;
                waiting.Add(key);
            }
            return true;
        }, cancel);
        if (settled.Count > 0)
            log.LogWarning("run {RunId}: {Settled} still Publishing though what reads them is produced (the manifest went back to an earlier state?): marked Done",
                runId, string.Join(", ", settled));
        // Records that found an output of this stage missing: their inputs are back, ask for them again
        // (their own triggers may come from another stage, which has nothing new to announce).
        foreach (var key in waiting)
        {
            var (queue, command) = PipelineDefinition.CommandFor(runId, key);
            var endpoint = await context.GetSendEndpoint(Endpoints.Queue(queue));
            await endpoint.Send(command, command.GetType(), cancel);
        }
        log.LogInformation("run {RunId}: {Stage} done; worker memory {Memory}", runId, stage, WorkerMemory.Release());
        return GateResult.Done;
    }

    /// <summary>The record's events are published; a command it announces (the next PPO chunk) is sent to its stage's queue.</summary>
    private static async Task AnnounceAsync(ConsumeContext context, PipelineStage stage, string runId, string key,
        Dictionary<string, ArtifactReference> outputs, RunPlan plan)
    {
        foreach (var message in stage.Announce(runId, key, outputs, plan))
            if (PipelineDefinition.CommandedBy(message) is { } target)
                await (await context.GetSendEndpoint(Endpoints.Queue(target.Queue))).Send(message, message.GetType(), context.CancellationToken);
            else
                await context.Publish(message, message.GetType(), context.CancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> while beating the record's heartbeat every SupervisionSettings.Heartbeat.
    /// A beat that fails (storage down for a moment) is only logged: the next one tries again, and the lease is
    /// many beats long.
    /// </summary>
    private async Task<T> WithHeartbeat<T>(string runId, string stage, Func<Task<T>> work, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var beats = BeatAsync(runId, stage, stop.Token);
        try
        {
            // Training runs synchronously inside work(): off this thread, so the beats keep going.
            return await Task.Run(work, cancel);
        }
        finally
        {
            await stop.CancelAsync();
            await beats;
        }
    }

    private async Task BeatAsync(string runId, string stage, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(supervision.Heartbeat);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await manifests.UpdateAsync(runId, m =>
                    {
                        var s = m.Stage(stage);
                        if (s.State != StageState.Running) return false;
                        s.Heartbeat = DateTimeOffset.UtcNow;
                        return true;
                    }, stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning("run {RunId}: heartbeat of {Stage} not recorded: {Reason}", runId, stage, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}

/// <summary>What a pass through the gate did.</summary>
public enum GateResult
{
    /// <summary>Computed (or published what this delivery had recorded) and marked Done.</summary>
    Done,
    /// <summary>The stage was Done before: nothing to do.</summary>
    AlreadyDone,
    /// <summary>Another delivery holds the stage's outputs and publishes them.</summary>
    LeftToAnother,
    /// <summary>An input is not produced (yet, or any more): its producer computes it, and its completion brings this stage back.</summary>
    WaitingForInput,
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
