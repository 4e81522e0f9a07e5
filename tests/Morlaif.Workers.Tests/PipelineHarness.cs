using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;
using TorchSharp;

namespace Morlaif.Workers.Tests;

/// <summary>The chosen workers on MassTransit's test harness (in-memory transport) with local storage.</summary>
public sealed class PipelineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly Deliveries _deliveries;

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
        // Observes every publish, send and receive from the bus's start, so no delivery goes uncounted.
        _deliveries = new Deliveries(workers);
        services.AddReceiveObserver(_ => _deliveries).AddPublishObserver(_ => _deliveries).AddSendObserver(_ => _deliveries);
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
    /// Waits until every message published or sent so far has been received and handled by every endpoint it goes to,
    /// and none is being handled: the counts of published messages are then final. Decided from MassTransit's own
    /// publish, send and receive signals (<see cref="Deliveries"/>), never from a pause.
    /// </summary>
    public async Task QuietAsync()
    {
        using var timeout = new CancellationTokenSource(Harness.TestTimeout);
        await _deliveries.QuietAsync(timeout.Token);
    }

    /// <summary>
    /// Counts deliveries: each message published goes to every endpoint of this harness that consumes its type (the
    /// stage it triggers, a Fault's to the run-faults endpoint), each command sent to its stage's endpoint; each is done
    /// once its receive ends. Expected deliveries are counted before the message leaves (PrePublish, PreSend), so a
    /// delivery can never be done before it is expected.
    /// </summary>
    private sealed class Deliveries(string[] workers) : IPublishObserver, ISendObserver, IReceiveObserver
    {
        private readonly object _lock = new();
        private readonly HashSet<string> _queues = [.. PipelineDefinition.Stages.Where(s => workers.Contains(s.Worker)).Select(s => s.Queue)];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _expected, _done, _inFlight;

        public async Task QuietAsync(CancellationToken timeout)
        {
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_inFlight == 0 && _done >= _expected) return;
                    changed = _changed.Task;
                }
                try
                {
                    await changed.WaitAsync(timeout);
                }
                catch (OperationCanceledException)
                {
                    lock (_lock) throw new TimeoutException($"the bus did not go quiet: {_done} of {_expected} deliveries done, {_inFlight} being handled");
                }
            }
        }

        /// <summary>The endpoints of this harness a published message of <paramref name="type"/> goes to.</summary>
        private int EndpointsOf(Type type) =>
            (PipelineDefinition.Triggered(type) is { } stage && _queues.Contains(stage.Queue) ? 1 : 0)
            + (workers.Length > 0 && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Fault<>) && PipelineDefinition.AllTriggers.Contains(type.GetGenericArguments()[0]) ? 1 : 0);

        private bool IsStageQueue(Uri? address) => address is not null && _queues.Contains(address.AbsolutePath.Trim('/').Split('/')[^1]);

        private Task Change(int expected, int done, int inFlight)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                (_expected, _done, _inFlight) = (_expected + expected, _done + done, _inFlight + inFlight);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.SetResult();
            return Task.CompletedTask;
        }

        public Task PrePublish<T>(PublishContext<T> context) where T : class => Change(EndpointsOf(typeof(T)), 0, 0);

        public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Change(-EndpointsOf(typeof(T)), 0, 0);

        public Task PreSend<T>(SendContext<T> context) where T : class => IsStageQueue(context.DestinationAddress) ? Change(1, 0, 0) : Task.CompletedTask;

        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class =>
            IsStageQueue(context.DestinationAddress) ? Change(-1, 0, 0) : Task.CompletedTask;

        public Task PreReceive(ReceiveContext context) => Change(0, 0, 1);

        public Task PostReceive(ReceiveContext context) => Change(0, 1, -1);

        public Task ReceiveFault(ReceiveContext context, Exception exception) => Change(0, 1, -1);

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
