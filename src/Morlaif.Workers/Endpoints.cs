using MassTransit;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>Queue names (what `morlaif replay` sends to) and the one retry policy every stage shares.</summary>
public static class Endpoints
{
    public const string Sft = "morlaif-sft";
    public const string Ppo = "morlaif-ppo";
    public const string Label = "morlaif-label";
    public const string TrainPm = "morlaif-train-pm";
    public const string Scalarize = "morlaif-scalarize";
    public const string Evaluate = "morlaif-evaluate";
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

/// <summary>A stage consumer's endpoint: its queue name, the shared retry, and how many messages it takes at once.</summary>
public abstract class StageDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected StageDefinition(string endpoint, int concurrency)
    {
        EndpointName = endpoint;
        // Training saturates the machine's cores: one message at a time per process; scale with processes.
        ConcurrentMessageLimit = concurrency;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context) => Endpoints.Retry(endpointConfigurator);
}
