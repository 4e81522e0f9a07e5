using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The broker and the blob store may restart or misbehave in the middle of a run; the workers ride it
/// out and the run completes with every artifact intact.
/// </summary>
[Trait("Category", "Integration")]
public sealed class InfrastructureFaultTests : DistributedTest
{
    [Fact]
    public void RabbitMQ_restarting_in_the_middle_of_a_run_is_survived_and_the_run_completes()
    {
        Run.StartAllWorkers();
        var runId = Run.Start();
        // Mid-run: preference models training (messages in flight, unacknowledged, in several queues).
        Run.WaitFor(runId, m => FindStage(m, "train-pm/", s => State(s) == "Running") is not null, TimeSpan.FromMinutes(6), failIfCompletedFirst: true);

        Servers.RestartBroker(down: TimeSpan.FromSeconds(5));

        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(8));
        AssertCompleteAndIntact(runId, done);
        // The same worker processes finished it: they reconnected rather than crashed.
        Assert.All(Run.Processes.Workers, w => Assert.False(w.Process.HasExited, $"{w.Name} exited:\n{Run.Processes.Logs()}"));
    }

    [Fact]
    public async Task Blob_storage_refusing_failing_and_dropping_connections_during_a_run_is_survived_and_no_damaged_artifact_is_read()
    {
        // Every worker reaches Azurite through the proxy; the test switches it between healthy and faulty
        // as the run progresses: 503 answers, connections cut in the middle of uploads and downloads,
        // and a stretch where the service is down altogether.
        await using var proxy = new FaultProxy(Servers.BlobPort);
        foreach (var (service, name) in TinyDistributedRun.Workers)
            Run.StartWorker(service, name, blobPort: proxy.Port);
        var runId = Run.Start();

        // The faults follow the run's progress, not the clock: each one starts only once another record of
        // the run is Done since the previous fault ended, so every kind is applied on any machine, fast or slow.
        (FaultProxy.Mode Mode, TimeSpan For)[] faults =
        [
            (FaultProxy.Mode.ServiceUnavailable, TimeSpan.FromSeconds(2)), (FaultProxy.Mode.Drop, TimeSpan.FromSeconds(2)),
            (FaultProxy.Mode.Refuse, TimeSpan.FromSeconds(8)),
        ];
        int DoneRecords() => Manifest(runId).GetProperty("stages").EnumerateObject().Count(r => State(r.Value) == "Done");
        using var stop = new CancellationTokenSource();
        var applied = 0;
        var injector = Task.Run(async () =>
        {
            try
            {
                for (var progress = DoneRecords(); !stop.IsCancellationRequested; applied++)
                {
                    while (DoneRecords() <= progress) await Task.Delay(100, stop.Token);
                    var (mode, length) = faults[applied % faults.Length];
                    proxy.Current = mode;
                    await Task.Delay(length, stop.Token);
                    proxy.Current = FaultProxy.Mode.Pass;
                    progress = DoneRecords();
                }
            }
            catch (OperationCanceledException)
            {
            }
            proxy.Current = FaultProxy.Mode.Pass;
        });

        System.Text.Json.JsonElement done;
        try
        {
            done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(10));
        }
        finally
        {
            await stop.CancelAsync();
            await injector;
        }

        AssertCompleteAndIntact(runId, done);
        Assert.True(proxy.Faults > 0, "no fault was injected");
        Assert.True(applied >= faults.Length, $"the run ended before every kind of fault was applied ({applied} of {faults.Length})");
        var logs = Run.Processes.Logs(full: true);
        Assert.DoesNotContain("is corrupt", logs); // a damaged read would have been caught, but none reached a stage
    }
}
