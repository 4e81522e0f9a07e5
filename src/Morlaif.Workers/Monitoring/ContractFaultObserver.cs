using Morlaif.Workers.Pipeline;
using System.Runtime.Serialization;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// A message whose body does not match its contract (missing or mistyped fields) never reaches a
/// consumer, so no Fault&lt;T&gt; names its run. This observer reads the run id out of the raw body, when
/// there is one, and marks that run Faulted with the reason; MassTransit moves the message itself to the
/// queue's _error queue with the same reason in its headers. Faults inside consumers are left to
/// <see cref="RunFaultConsumer"/>.
/// </summary>
public sealed class ContractFaultObserver(RunFaults faults, ILogger<ContractFaultObserver> log) : IReceiveObserver
{
    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class =>
        Task.CompletedTask;

    public async Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        if (!IsContractMismatch(exception)) return;
        var (type, runId) = Peek(context.Body.GetBytes());
        var stage = StageOf(context.InputAddress);
        var reason = $"message {type ?? "(no message type)"} does not match its contract: {exception.GetType().Name}: {exception.Message}";
        log.LogError("{Stage}: {Reason}", stage, reason);
        // A body with no valid run id marks nothing: the _error queue and this log are its record.
        await faults.MarkAsync(runId, stage, null, null, reason);
    }

    /// <summary>
    /// Whether a receive fault means the body does not match its contract. MassTransit reports a body that
    /// failed to deserialize, a consumer that threw, and a receive cut short by the transport (a broker
    /// restart cancels it: TaskCanceledException, redelivered later) through the same ReceiveFault. Only the
    /// first faults the run: a JSON or MassTransit serialization error that never passed through this
    /// project's code (a consumer's own failure carries its run and stage in its Fault&lt;T&gt;).
    /// </summary>
    internal static bool IsContractMismatch(Exception exception) =>
        !ThrownInOurCode(exception) && Chain(exception).Any(e => e is JsonException or SerializationException);

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
        }
    }

    private static bool ThrownInOurCode(Exception exception) =>
        Chain(exception).Any(e => new System.Diagnostics.StackTrace(e).GetFrames().Any(f =>
            f.GetMethod()?.DeclaringType?.Assembly.GetName().Name?.StartsWith("Morlaif.", StringComparison.Ordinal) == true));

    /// <summary>The message type and run id of a MassTransit JSON envelope, as far as the body has them.</summary>
    private static (string? Type, string? RunId) Peek(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, null);
            var type = root.TryGetProperty("messageType", out var t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0
                ? t[0].GetString()?.Split(':')[^1]
                : null;
            var runId = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object
                        && m.TryGetProperty("runId", out var r) && r.ValueKind == JsonValueKind.String
                ? r.GetString()
                : null;
            return (type, runId);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>The stage a queue serves ("morlaif-train-pm" → "train-pm"), as `morlaif replay --stage` names it.</summary>
    private static string StageOf(Uri inputAddress)
    {
        var queue = inputAddress.AbsolutePath.Split('/')[^1];
        return PipelineDefinition.OfQueue(queue)?.Name ?? queue;
    }
}
