using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// A stage message that still failed after its retries marks the run Faulted, with the stage record and
/// the reason, so `morlaif status` can say what went wrong and `morlaif replay` can pick it up. One closed
/// type per message a stage consumes (<see cref="PipelineDefinition.AllTriggers"/>); the definition says
/// which stage and record a message is about.
/// </summary>
public sealed class RunFaultConsumer<T>(RunFaults faults, ILogger<RunFaultConsumer<T>> log) : IConsumer<Fault<T>> where T : class
{
    private static readonly PipelineStage Stage = PipelineDefinition.Triggered(typeof(T))
        ?? throw new InvalidOperationException($"{typeof(T).Name} runs no stage of the pipeline");

    public async Task Consume(ConsumeContext<Fault<T>> context)
    {
        var message = context.Message.Message;
        var runId = (string?)typeof(T).GetProperty("RunId")?.GetValue(message);
        var reason = context.Message.Exceptions.FirstOrDefault() is { } e ? $"{e.ExceptionType}: {e.Message}" : "unknown error";
        var key = Stage.KeyOf(message);
        log.LogError("run {RunId}: stage {Stage} failed for good: {Reason}", runId, key ?? Stage.Name, reason);
        await faults.MarkAsync(runId, key ?? Stage.Name, Stage, key, reason, context.CancellationToken);
    }
}

/// <summary>Every fault consumer on one queue; each retries its own marking (a lost manifest race), nothing else.</summary>
public sealed class RunFaultConsumerDefinition<T> : ConsumerDefinition<RunFaultConsumer<T>> where T : class
{
    public RunFaultConsumerDefinition() => EndpointName = Endpoints.RunFaults;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RunFaultConsumer<T>> consumerConfigurator,
        IRegistrationContext context) => consumerConfigurator.UseMessageRetry(r => r.Intervals(200, 1000, 5000));
}
