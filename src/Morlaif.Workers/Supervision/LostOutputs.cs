using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Supervision;

/// <summary>
/// An artifact the manifest references but the store no longer has (a store that lost acknowledged writes,
/// an operator's deletion) is computed again by the record that produced it, instead of faulting the run:
/// that record goes back to Pending without its outputs and its command is sent; the record that found the
/// loss waits (Pending, WaitingFor the producer), and the producer's completion sends its command again. Bounded by MaxRecomputes per record.
/// </summary>
public sealed class LostOutputs(IManifestStore manifests, SupervisionSettings settings, ILogger<LostOutputs> log)
{
    /// <summary>
    /// True when <paramref name="missing"/> is an output of a record of <paramref name="manifest"/> and that
    /// record is (or already was) set to be computed again; false when the loss cannot be repaired that way
    /// (no stage produced it, e.g. the config; or it was recomputed too often), so the fault stands.
    /// </summary>
    public async Task<bool> RecomputeProducerAsync(ConsumeContext context, RunManifest manifest, string waiting, ArtifactReference missing,
        CancellationToken cancel)
    {
        bool Produces(StageRecord s) => s.Outputs.Values.Any(o => o.Name == missing.Name);
        var producer = manifest.Stages.FirstOrDefault(kv => kv.Key != waiting && Produces(kv.Value)).Key;
        if (producer is null) return false;
        var exhausted = false;
        var reset = false;
        await manifests.UpdateAsync(manifest.RunId, m =>
        {
            exhausted = reset = false;
            var p = m.Stage(producer);
            if (Produces(p))
            {
                if (p.Recomputed >= settings.MaxRecomputes)
                {
                    exhausted = true;
                    return false;
                }
                p.Recomputed++;
                p.State = StageState.Pending;
                p.Outputs = new();
                p.Claim = null;
                p.CompletedAt = null;
                reset = true;
            }
            // else another record found the same loss first and reset the producer: just wait with it.
            var w = m.Stage(waiting);
            if (w.State == StageState.Running) w.State = StageState.Pending;
            w.WaitingFor = producer;
            w.Heartbeat = DateTimeOffset.UtcNow;
            return true;
        }, cancel);
        if (exhausted)
        {
            log.LogError("run {RunId}: {Name} is missing again after {Count} recomputes of {Producer}", manifest.RunId, missing.Name, settings.MaxRecomputes, producer);
            return false;
        }
        if (reset)
        {
            var (queue, command) = PipelineDefinition.CommandFor(manifest.RunId, producer);
            var endpoint = await context.GetSendEndpoint(Endpoints.Queue(queue));
            await endpoint.Send(command, command.GetType(), cancel);
        }
        log.LogWarning("run {RunId}: {Waiting} found {Name} missing from the store; {Producer} computes it again", manifest.RunId, waiting, missing.Name, producer);
        return true;
    }
}
