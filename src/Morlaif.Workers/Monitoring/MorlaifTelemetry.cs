using System.Diagnostics;
using System.Diagnostics.Metrics;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// The pipeline's own traces and metrics, as System.Diagnostics records them: nothing leaves the process unless the
/// host exports the "Morlaif" source and meter (Morlaif.Hosting's Telemetry, only when an OTLP endpoint is set), and
/// with nobody listening a span is never created and a measurement costs a check.
/// </summary>
public static class MorlaifTelemetry
{
    /// <summary>The ActivitySource's and the Meter's name (the chat judge's meter in Morlaif.Feedback has it too).</summary>
    public const string Name = "Morlaif";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> StageDuration = Meter.CreateHistogram<double>("morlaif.stage.duration", "s",
        "One stage attempt's compute, from its inputs to its outputs stored (not the announcement)");

    private static readonly Histogram<double> PpoIterationDuration = Meter.CreateHistogram<double>("morlaif.ppo.iteration.duration", "s",
        "One PPO iteration: rollout, scoring, advantages and the policy updates");

    // A counter rather than a tokens-per-second histogram: its rate is tokens per second over any window, summed
    // across learners, where averaging per-iteration rates would weigh a short iteration like a long one.
    private static readonly Counter<long> PpoTokens = Meter.CreateCounter<long>("morlaif.ppo.tokens", "{token}",
        "Response tokens the PPO learner generated in its rollouts");

    private static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("morlaif.queue.wait", "s",
        "From a message's send or publish to the start of its consumption");

    private static int _memoryObserved;

    /// <summary>
    /// The span of one stage attempt (its compute), a child of the consume that runs it, and its duration. The
    /// record key says which record ("train-pm/helpfulness", "ppo/morlaif/0003"), the stage its row.
    /// </summary>
    public static async Task<T> AttemptAsync<T>(string runId, string key, int attempt, Func<Task<T>> work)
    {
        var stage = PipelineDefinition.OfKey(key);
        using var span = Source.StartActivity($"stage {stage.Name}");
        if (span is not null)
        {
            span.SetTag("morlaif.run_id", runId).SetTag("morlaif.stage", stage.Name).SetTag("morlaif.record", key).SetTag("morlaif.attempt", attempt);
            var parts = key.Split('/');
            if (stage == PipelineDefinition.Ppo) span.SetTag("morlaif.arm", parts[1]).SetTag("morlaif.ppo.chunk_start", int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
            else if (parts.Length > 1) span.SetTag("morlaif.principle", parts[1]); // label/<question>, train-pm/<question>
        }
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await work();
            outcome = "done";
            return result;
        }
        catch (OperationCanceledException)
        {
            // The worker is stopping (SIGTERM): the attempt hands its message back, not a failure.
            outcome = "cancelled";
            throw;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            StageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("morlaif.stage", stage.Name), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>One PPO iteration's wall time and the response tokens its rollouts generated.</summary>
    public static void PpoIteration(string arm, TimeSpan elapsed, long tokens)
    {
        var tag = new KeyValuePair<string, object?>("morlaif.arm", arm);
        PpoIterationDuration.Record(elapsed.TotalSeconds, tag);
        PpoTokens.Add(tokens, tag);
    }

    /// <summary>How long a message waited between its send and its consumption, by queue and message type.</summary>
    public static void Waited(string queue, string messageType, TimeSpan wait) =>
        QueueWait.Record(Math.Max(0, wait.TotalSeconds),
            new KeyValuePair<string, object?>("messaging.destination.name", queue), new KeyValuePair<string, object?>("messaging.message.type", messageType));

    /// <summary>
    /// The worker's memory as gauges, read when the exporter collects: the resident set (what the orchestrator's
    /// memory limit counts, native tensors included) and the managed heap. Once per process.
    /// </summary>
    public static void ObserveWorkerMemory()
    {
        if (Interlocked.Exchange(ref _memoryObserved, 1) == 1) return;
        Meter.CreateObservableGauge("morlaif.worker.memory.resident", WorkerMemory.ResidentBytes, "By", "The process's resident set");
        Meter.CreateObservableGauge("morlaif.worker.memory.managed_heap", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By",
            "The managed heap after the last collection");
    }
}
