using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Morlaif.Workers;

namespace Morlaif.Cli;

/// <summary>
/// The commands' bounded use of the servers: each step that talks to the broker or blob storage gets a
/// deadline, and a server that does not answer becomes a <see cref="ServerUnreachableException"/> (one
/// line, exit 3) instead of a minute of the hosts' reconnect retries and a stack trace.
/// </summary>
public static class CliServers
{
    /// <summary>Per look at a server; a refused connection fails at once, a silent address after this.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For a step on a server that just answered (publishing, stopping): a server that went away since
    /// the check is reported after this, not after the clients' minute of retries.
    /// </summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// For declaring the queues: on a new virtual host each quorum queue starts its own Raft log (measured
    /// here: 5 s for the seven queues at a load average of 7; more than 10 s when the machine was loaded
    /// twelve times over). A broker that cannot be reached has already failed the check above in seconds.
    /// </summary>
    public static readonly TimeSpan DeclareTimeout = TimeSpan.FromSeconds(90);

    private static IConfiguration Configuration(IHost host) => host.Services.GetRequiredService<IConfiguration>();

    /// <summary>Looks at the servers the host is configured for (blob storage, then RabbitMQ) before anything is changed.</summary>
    public static Task RequireAsync(IHost host) => ServerChecks.RequireAsync(Configuration(host), CheckTimeout);

    /// <summary><see cref="HostingDefaults.DeployTopologyAsync"/>, with a deadline.</summary>
    public static Task DeployTopologyAsync(IHost host) =>
        Bounded(host, ct => HostingDefaults.DeployTopologyAsync(Configuration(host), ct), "declaring the queues", DeclareTimeout);

    /// <summary>Starts the host (its bus) with a deadline.</summary>
    public static Task StartAsync(IHost host) => Bounded(host, host.StartAsync, "starting the bus");

    /// <summary>Stops the host without waiting the default 30 s on a broker that went away.</summary>
    public static async Task StopAsync(IHost host)
    {
        using var cts = new CancellationTokenSource(StepTimeout);
        try
        {
            await host.StopAsync(cts.Token).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // what was to be sent has been sent (or reported); nothing is left to wait for
        }
    }

    /// <summary><see cref="RunStarter.StartAsync"/> with a deadline, its failures as the command reports them.</summary>
    public static async Task<string> StartRunAsync(IHost host, RunConfig config, string? runId)
    {
        using var cts = new CancellationTokenSource(StepTimeout);
        try
        {
            return await RunStarter.StartAsync(host.Services.GetRequiredService<IArtifactStore>(), host.Services.GetRequiredService<IManifestStore>(),
                host.Services.GetRequiredService<IBus>(), config, runId, cts.Token);
        }
        catch (RunExistsException e)
        {
            throw new UsageException($"option '--run-id': run '{e.RunId}' already exists");
        }
        catch (RunNotStartedException e)
        {
            // The manifest was written, so storage answered: publishing is what failed.
            var reason = e.InnerException is OperationCanceledException ? $"publishing RunStarted got no answer within {StepTimeout.TotalSeconds:0} s" : Reason(e.InnerException!);
            throw new ServerUnreachableException(ServerChecks.Broker, ServerChecks.BrokerAddress(Configuration(host)), $"{reason}; {e.Message}", e);
        }
        catch (Exception e) when (IsStorageOutage(host, e))
        {
            throw new ServerUnreachableException(ServerChecks.Storage, ServerChecks.StorageAddress(Configuration(host)),
                e is OperationCanceledException ? $"no answer within {StepTimeout.TotalSeconds:0} s" : Reason(e), e);
        }
    }

    private static bool IsStorageOutage(IHost host, Exception e) =>
        Configuration(host).GetValue<string>("Morlaif:Storage") is null or "azure"
        && e is OperationCanceledException or Azure.RequestFailedException { Status: 0 } or HttpRequestException or AggregateException;

    private static async Task Bounded(IHost host, Func<CancellationToken, Task> step, string what, TimeSpan? timeout = null)
    {
        var deadline = timeout ?? StepTimeout;
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            // WaitAsync: the deadline holds even for a step that does not watch its token (a test saw a start
            // hang past 2 minutes with nothing written).
            await step(cts.Token).WaitAsync(cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException && cts.IsCancellationRequested || IsConnectionFailure(e))
        {
            throw new ServerUnreachableException(ServerChecks.Broker, ServerChecks.BrokerAddress(Configuration(host)),
                e is OperationCanceledException ? $"{what} got no answer within {deadline.TotalSeconds:0} s" : $"{what}: {Reason(e)}", e);
        }
    }

    private static bool IsConnectionFailure(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is RabbitMqConnectionException or RabbitMQ.Client.Exceptions.BrokerUnreachableException or System.Net.Sockets.SocketException)
                return true;
        return false;
    }

    private static string Reason(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.Split('\n', 2)[0].Trim();
    }
}
