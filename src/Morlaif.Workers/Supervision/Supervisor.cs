using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Supervision;

/// <summary>
/// Finds runs that stopped moving and asks again for what they wait on. A Running run with no activity in
/// its manifest for a lease (no start, heartbeat, checkpoint or completion: its command was lost, its worker
/// vanished without the broker noticing, or the manifest went back to an earlier state) gets the command of
/// every record that is ready (its inputs done) but not done itself sent again, through the same idempotent
/// StageGate; a record stuck in Publishing has its claim released so the re-sent command publishes it.
/// Every worker host runs one; the re-send is claimed in the manifest (compare-and-swap), so one sends.
/// </summary>
public sealed class Supervisor(IManifestStore manifests, IBus bus, RunArtifacts artifacts, SupervisionSettings settings, ILogger<Supervisor> log)
    : BackgroundService
{
    /// <summary>Runs that completed: never looked at again by this process.</summary>
    private readonly HashSet<string> _completed = [];

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(settings.Sweep);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await SweepAsync(DateTimeOffset.UtcNow, stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning("supervisor sweep failed, next in {Seconds} s: {Reason}", settings.SweepSeconds, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over every run; returns the records whose commands were re-sent.</summary>
    public async Task<List<(string RunId, string Key)>> SweepAsync(DateTimeOffset now, CancellationToken cancel)
    {
        var resent = new List<(string, string)>();
        await foreach (var runId in manifests.ListAsync(cancel))
        {
            if (_completed.Contains(runId)) continue;
            var manifest = await manifests.ReadAsync(runId, cancel);
            if (manifest?.State == RunState.Completed) _completed.Add(runId);
            if (manifest?.State != RunState.Running) continue; // a faulted run waits for `morlaif replay`
            try
            {
                foreach (var key in await SuperviseAsync(manifest, now, cancel)) resent.Add((runId, key));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning("run {RunId}: not supervised this sweep: {Reason}", runId, e.Message);
            }
        }
        return resent;
    }

    /// <summary>The records of one run re-sent at <paramref name="now"/> (none while the run is moving).</summary>
    public async Task<List<string>> SuperviseAsync(RunManifest manifest, DateTimeOffset now, CancellationToken cancel)
    {
        if (now - manifest.LastActivity < settings.Lease) return [];
        var plan = RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, cancel)).Config);
        var due = new List<string>();
        var (_, claimed) = await manifests.UpdateAsync(manifest.RunId, m =>
        {
            due.Clear();
            // Another supervisor (or the run itself) moved since our read: nothing is due.
            if (m.State != RunState.Running || now - m.LastActivity < settings.Lease) return false;
            foreach (var (stage, key) in plan.Records)
            {
                var s = m.Stages.GetValueOrDefault(key);
                if (s?.State == StageState.Faulted || PipelineDefinition.IsDone(m, key)) continue;
                // Ready: its inputs are Done. An input still Publishing is itself due, and its event brings this one.
                if (stage.Inputs(plan, key).Any(k => !PipelineDefinition.IsDone(m, k))) continue;
                // Each further re-send of the same record waits twice as long: a command only queued behind other
                // runs' work is re-sent a few times at most (each copy a no-op at the gate), not in a loop.
                if (s is { ResentAt: { } last } && now - last < settings.Lease * Math.Pow(2, Math.Min(s.Resent - 1, 6))) continue;
                due.Add(key);
            }
            foreach (var key in due)
            {
                var s = m.Stage(key);
                s.Resent++;
                s.ResentAt = now;
                if (s.State == StageState.Publishing) s.Claim = null; // its holder is gone: the re-sent command publishes
            }
            return due.Count > 0;
        }, cancel);
        if (!claimed) return [];
        foreach (var key in due)
        {
            var (queue, command) = PipelineDefinition.CommandFor(manifest.RunId, key);
            var endpoint = await bus.GetSendEndpoint(Endpoints.Queue(queue));
            await endpoint.Send(command, command.GetType(), cancel);
            log.LogWarning("run {RunId}: no activity for {Seconds:F0} s; re-sent {Key} ({Command} to {Queue})",
                manifest.RunId, (now - manifest.LastActivity).TotalSeconds, key, command.GetType().Name, queue);
        }
        return due;
    }
}
