using MassTransit;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>Where commands go, and the one retry policy every stage shares (the stages' queues are named by <see cref="Pipeline.PipelineStage.Queue"/>).</summary>
public static class Endpoints
{
    public const string RunFaults = "morlaif-run-faults";

    /// <summary>
    /// Where a command for a stage queue is sent: the exchange MassTransit binds to that queue. Not a
    /// "queue:" address: sending there declares the queue again, as a classic queue, and the broker refuses
    /// that for the quorum queue the workers declared. The exchange always has its queue bound: the workers,
    /// `morlaif start` and `morlaif replay` all declare the whole topology before anything is sent.
    /// </summary>
    public static Uri Queue(string name) => new($"exchange:{name}");

    /// <summary>
    /// Retry lives here and nowhere else: retries spread over about a minute for transient faults (a
    /// storage outage on top of the storage client's own retries, a lost race), none for errors that
    /// retrying cannot fix (bad config, bad or corrupt input, unknown run). What still fails becomes a
    /// Fault, which marks the run Faulted. Long stages resume from their checkpoints on each retry.
    /// </summary>
    public static void Retry(IReceiveEndpointConfigurator endpoint) => endpoint.UseMessageRetry(r =>
    {
        r.Intervals(200, 1000, 5000, 15_000, 30_000);
        r.Ignore<ConfigException>();
        r.Ignore<ArgumentException>();
        r.Ignore<InvalidDataException>();
        r.Ignore<ArtifactIntegrityException>();
        r.Ignore<ArtifactNotFoundException>();
        r.Ignore<RunNotFoundException>();
        r.Ignore<System.Text.Json.JsonException>();
    });
}

/// <summary>Stage messages an endpoint works on at once (Morlaif:StageConcurrency; 1 unless the host says otherwise).</summary>
public sealed record StageConcurrency(int Messages);

/// <summary>
/// A stage consumer's endpoint: its stage's queue (<see cref="Pipeline.PipelineDefinition"/>), the shared retry, and by
/// default one message at a time per process, since training a real model saturates the machine's cores: scale with
/// processes. A host of small models may take more (<see cref="StageConcurrency"/>).
/// </summary>
public sealed class StageDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    public StageDefinition(StageConcurrency concurrency)
    {
        EndpointName = Pipeline.PipelineDefinition.Stages.Single(s => s.Consumer == typeof(TConsumer)).Queue;
        ConcurrentMessageLimit = concurrency.Messages;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context) => Endpoints.Retry(endpointConfigurator);
}
