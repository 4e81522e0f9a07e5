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
        // until the run completes: 503 answers, connections cut in the middle of uploads and downloads,
        // and a stretch where the service is down altogether.
        await using var proxy = new FaultProxy(Servers.BlobPort);
        foreach (var (service, name) in TinyDistributedRun.Workers)
            Run.StartWorker(service, name, blobPort: proxy.Port);
        var runId = Run.Start();

        (FaultProxy.Mode Mode, TimeSpan For)[] schedule =
        [
            (FaultProxy.Mode.Pass, TimeSpan.FromSeconds(4)), (FaultProxy.Mode.ServiceUnavailable, TimeSpan.FromSeconds(2)),
            (FaultProxy.Mode.Pass, TimeSpan.FromSeconds(4)), (FaultProxy.Mode.Drop, TimeSpan.FromSeconds(2)),
            (FaultProxy.Mode.Pass, TimeSpan.FromSeconds(4)), (FaultProxy.Mode.Refuse, TimeSpan.FromSeconds(8)),
        ];
        using var stop = new CancellationTokenSource();
        var switches = 0; // the schedule is a cycle: every kind of fault was applied once switches reach its length
        var faults = Task.Run(async () =>
        {
            for (; !stop.IsCancellationRequested; switches++)
            {
                var (mode, length) = schedule[switches % schedule.Length];
                proxy.Current = mode;
                await Task.Delay(length, stop.Token).ContinueWith(_ => { });
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
            await faults;
        }

        AssertCompleteAndIntact(runId, done);
        Assert.True(proxy.Faults > 0, "no fault was injected");
        Assert.True(switches >= schedule.Length, $"the run ended before every kind of fault was applied ({switches} of {schedule.Length} steps)");
        var logs = Run.Processes.Logs(full: true);
        Assert.DoesNotContain("is corrupt", logs); // a damaged read would have been caught, but none reached a stage
    }
}
