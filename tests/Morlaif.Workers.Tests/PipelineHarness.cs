using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using TorchSharp;

namespace Morlaif.Workers.Tests;

/// <summary>The chosen workers on MassTransit's test harness (in-memory transport) with local storage.</summary>
public sealed class PipelineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly InFlight _inFlight = new();

    public ITestHarness Harness { get; }
    public IArtifactStore Store { get; }
    public IManifestStore Manifests { get; }
    public string Root { get; }

    /// <param name="workers">the workers to run (WorkerRegistration names)</param>
    /// <param name="root">an existing store folder to share, or null for a fresh one</param>
    public PipelineHarness(string[] workers, string? root = null)
    {
        Root = root ?? Path.Combine(Path.GetTempPath(), $"morlaif-harness-{Guid.NewGuid():N}");
        Store = new LocalArtifactStore(Root);
        Manifests = new LocalManifestStore(Root);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Store);
        services.AddSingleton(Manifests);
        services.AddSingleton(torch.CPU);
        services.AddStageServices();
        // Observes every receive from the bus's start, so no receive ends uncounted.
        services.AddSingleton(_inFlight).AddReceiveObserver<InFlight>();
        services.AddMassTransitTestHarness(x => x.AddWorkers(workers));
        _provider = services.BuildServiceProvider(true);
        Harness = _provider.GetRequiredService<ITestHarness>();
        Harness.TestTimeout = TimeSpan.FromMinutes(5);
    }

    public Task StartAsync() => Harness.Start();

    /// <summary>A service of the harness's container (the workers' shared services).</summary>
    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public Task<string> StartRunAsync(RunConfig config, string? runId = null) =>
        RunStarter.StartAsync(Store, Manifests, Harness.Bus, config, runId);

    public async Task<RunManifest> WaitAsync(string runId, Func<RunManifest, bool>? until = null, TimeSpan? timeout = null)
    {
        until ??= m => m.State != RunState.Running;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(4));
        while (true)
        {
            var m = await Manifests.ReadAsync(runId) ?? throw new RunNotFoundException(runId);
            if (until(m)) return m;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {runId} did not reach the expected state; stages: {string.Join(", ", m.Stages.Select(kv => $"{kv.Key}={kv.Value.State}"))}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits until no message is being received or consumed and nothing new has moved for a moment, so
    /// counts of published messages are final (a consumer still computing keeps the bus busy).
    /// </summary>
    public async Task QuietAsync()
    {
        var last = -1;
        var deadline = DateTime.UtcNow + Harness.TestTimeout;
        while (true)
        {
            await Task.Delay(400);
            var now = Harness.Published.Select<object>().Count() + Harness.Consumed.Select<object>().Count() + Harness.Sent.Select<object>().Count();
            if (now == last && _inFlight.Count == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the bus did not go quiet: {_inFlight.Count} receives in flight");
            last = now;
        }
    }

    /// <summary>Messages received and not yet finished, on every endpoint of the bus.</summary>
    private sealed class InFlight : IReceiveObserver
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task PreReceive(ReceiveContext context)
        {
            Interlocked.Increment(ref _count);
            return Task.CompletedTask;
        }

        public Task PostReceive(ReceiveContext context)
        {
            Interlocked.Decrement(ref _count);
            return Task.CompletedTask;
        }

        public Task ReceiveFault(ReceiveContext context, Exception exception)
        {
            Interlocked.Decrement(ref _count);
            return Task.CompletedTask;
        }

        public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType) where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception) where T : class => Task.CompletedTask;
    }

    public int PublishedCount<T>(string runId, Func<T, string> run) where T : class =>
        Harness.Published.Select<T>().Count(m => run(m.Context.Message) == runId);

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}
