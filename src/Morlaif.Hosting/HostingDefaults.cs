using Azure.Storage.Blobs;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Supervision;
using TorchSharp;

namespace Morlaif.Hosting;

/// <summary>
/// One place for what every Morlaif host needs: options, the artifact and manifest stores, the bus with
/// the chosen workers. Connection strings come from configuration by name ("rabbitmq", "blobs"), i.e.
/// ConnectionStrings__rabbitmq and ConnectionStrings__blobs in the environment, never from code.
/// </summary>
public static class HostingDefaults
{
    public static IHostApplicationBuilder AddMorlaifDefaults(this IHostApplicationBuilder builder, params string[] workers)
    {
        var options = builder.Configuration.GetSection("Morlaif").Get<MorlaifOptions>() ?? new MorlaifOptions();
        options.Validate();
        builder.AddMorlaifTelemetry(workers); // first: the Azure SDK reads its tracing switch when the storage client is made
        builder.Services.AddMorlaifStorage(options, builder.Configuration);
        builder.Services.AddSingleton(_ => torch.device(options.Device));
        builder.Services.AddSingleton(new StageConcurrency(options.StageConcurrency));
        // Messages worked on side by side share the cores: more intra-op threads than cores only makes them wait on each other.
        if (options.StageConcurrency > 1) torch.set_num_threads(Math.Max(1, torch.get_num_threads() / options.StageConcurrency));
        var supervision = builder.Configuration.GetSection("Morlaif:Supervision").Get<SupervisionSettings>() ?? new SupervisionSettings();
        supervision.Validate();
        builder.Services.AddSingleton(supervision);
        builder.Services.AddSingleton(builder.Configuration.GetSection("Morlaif:Cache").Get<ArtifactCacheSettings>() ?? new ArtifactCacheSettings());
        builder.Services.AddStageServices();
        // A worker host on the broker watches for runs that stopped moving; the CLI's own hosts and the
        // in-process run (nothing there can lose a message) do not.
        if (workers.Length > 0 && options.Transport == "rabbitmq" && supervision.Enabled)
            builder.Services.AddHostedService<Supervisor>();
        builder.Services.AddSingleton(options);
        // On SIGTERM the bus stops taking messages and cancels the ones in hand at once (MassTransit's default is to wait for
        // them to finish, however long: a PPO chunk outlasts any grace period). A long stage finishes the step it is in,
        // checkpoints it and hands its message back (StageCheckpoints.HandBackIfStopping); another stage's attempt ends, and
        // its message goes back to be done again from its inputs (stages are idempotent). The host waits this long for that.
        builder.Services.Configure<MassTransitHostOptions>(o => o.ConsumerStopTimeout = TimeSpan.Zero);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));
        // MassTransit adds its bus check to this registry (tagged "ready"); the store's joins it. Served only on a port that is set.
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [HealthEndpoints.ReadyTag]);
        if (options.Health.Port is not null)
        {
            builder.Services.AddSingleton(options.Health);
            builder.Services.AddHostedService<HealthEndpoints>();
        }

        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports the host, OS and bus topology to its vendor's server by default; nothing here calls home.
            bus.DisableUsageTelemetry();
            bus.AddWorkers(workers);
            if (options.Transport == "inmemory")
                bus.UsingInMemory((ctx, cfg) => cfg.ConfigureEndpoints(ctx));
            else
                bus.UsingMorlaifRabbitMq(builder.Configuration, deployTopologyOnly: false);
        });
        return builder;
    }

    /// <summary>
    /// Declares every worker's queue, exchange and binding on the broker without consuming anything. An
    /// event published to an exchange no queue is bound to yet is dropped by RabbitMQ, so `morlaif start`
    /// deploys the whole topology first: a run started before its workers waits in their queues.
    /// </summary>
    public static async Task DeployTopologyAsync(IConfiguration configuration, CancellationToken cancel = default)
    {
        var options = configuration.GetSection("Morlaif").Get<MorlaifOptions>() ?? new MorlaifOptions();
        if (options.Transport != "rabbitmq") return;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IArtifactStore>(new LocalArtifactStore(Path.GetTempPath()));
        services.AddSingleton<IManifestStore>(new LocalManifestStore(Path.GetTempPath()));
        services.AddSingleton(torch.CPU);
        services.AddStageServices();
        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            bus.AddWorkers(WorkerRegistration.All);
            bus.UsingMorlaifRabbitMq(configuration, deployTopologyOnly: true);
        });
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IBusControl>().DeployAsync(cancel);
    }

    /// <summary>
    /// The broker as the workers and `morlaif start` declare it: every stage queue (and its _error queue) a
    /// quorum queue, a replicated Raft log written to disk before a publish is confirmed, RabbitMQ's queue
    /// type for data safety (a classic queue may lose confirmed messages when its node is killed); publisher
    /// confirms on (MassTransit's default). Commands are sent to each queue's exchange
    /// (<see cref="Morlaif.Workers.Endpoints.Queue"/>), never to a "queue:" address, whose send topology
    /// would declare the queue again without its type, which the broker refuses.
    /// </summary>
    private static void UsingMorlaifRabbitMq(this IBusRegistrationConfigurator bus, IConfiguration configuration, bool deployTopologyOnly)
    {
        bus.AddConfigureEndpointsCallback((_, endpoint) =>
        {
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SetQuorumQueue();
        });
        bus.UsingRabbitMq((ctx, cfg) =>
        {
            cfg.Host(new Uri(Required(configuration, "rabbitmq")));
            cfg.DeployTopologyOnly = deployTopologyOnly;
            cfg.ConfigureEndpoints(ctx);
        });
    }

    private static void AddMorlaifStorage(this IServiceCollection services, MorlaifOptions options, IConfiguration configuration)
    {
        if (options.Storage == "local")
        {
            services.AddSingleton<IArtifactStore>(new LocalArtifactStore(options.LocalRoot));
            services.AddSingleton<IManifestStore>(new LocalManifestStore(options.LocalRoot));
            return;
        }
        var clientOptions = new BlobClientOptions();
        // The SDK retries transient faults itself (exponential back-off); this is the only retry around blob calls.
        clientOptions.Retry.Mode = Azure.Core.RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = 6;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        var service = new BlobServiceClient(Required(configuration, "blobs"), clientOptions);
        services.AddSingleton<IArtifactStore>(new BlobArtifactStore(service));
        services.AddSingleton<IManifestStore>(new BlobManifestStore(service));
    }

    internal static string Required(IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"connection string '{name}' is not set (ConnectionStrings__{name})");
}
