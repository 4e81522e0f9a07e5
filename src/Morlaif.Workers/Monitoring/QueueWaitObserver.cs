using MassTransit;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// Records how long each message waited on the broker (its SentTime to the start of its first consumption) as
/// morlaif.queue.wait: the figure that says a stage needs more workers. A retry of the same delivery is not a new
/// wait, and a message without a SentTime (sent by something that did not stamp it) has none to measure.
/// </summary>
public sealed class QueueWaitObserver : IConsumeObserver
{
    public Task PreConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.SentTime is { } sent && context.GetRetryAttempt() == 0)
            MorlaifTelemetry.Waited(context.ReceiveContext.InputAddress.AbsolutePath.Split('/')[^1], TypeCache<T>.ShortName,
                DateTime.UtcNow - DateTime.SpecifyKind(sent, DateTimeKind.Utc));
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
