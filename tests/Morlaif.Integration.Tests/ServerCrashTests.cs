using System.Text.Json;
using Xunit.Abstractions;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The servers crash: SIGKILL, no shutdown, then started again on the data they left (infra/local.sh kill,
/// up). The run completes intact, through the same worker processes.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ServerCrashTests(ITestOutputHelper output) : DistributedTest
{
    private static int Resent(JsonElement record) => record.TryGetProperty("resent", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetInt32() : 0;

    [Fact]
    public void The_RabbitMQ_node_SIGKILLed_in_the_middle_of_a_stage_loses_no_message_and_the_run_completes()
    {
        Run.StartAllWorkers();
        var runId = Run.Start();
        // Mid-stage: preference models training, their commands delivered and unacknowledged, events in flight.
        Run.WaitFor(runId, m => FindStage(m, "train-pm/", s => State(s) == "Running") is not null, TimeSpan.FromMinutes(6), failIfCompletedFirst: true);

        Servers.Kill("rabbitmq");
        Servers.StartServers();

        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(8));
        AssertCompleteAndIntact(runId, done);
        // The broker itself kept every confirmed message (quorum queues): the supervisor had nothing to re-send.
        foreach (var record in done.GetProperty("stages").EnumerateObject())
            Assert.True(Resent(record.Value) == 0, $"{record.Name} had to be re-sent: a message was lost\n{Run.Processes.Logs()}");
        Assert.All(Run.Processes.Workers, w => Assert.False(w.Process.HasExited, $"{w.Name} exited:\n{Run.Processes.Logs()}"));
    }

    [Fact]
    public void Azurite_SIGKILLed_in_the_middle_of_a_run_and_started_on_its_data_again_loses_writes_and_the_supervisor_completes_the_run()
    {
        // Azurite acknowledges a write before its metadata is on disk: a SIGKILL loses the last moments of
        // writes (the manifest goes back to an earlier state while the messages have moved on). Nothing
        // announces that; the supervisor notices the run stopped moving.
        Run.SuperviseWithin(TimeSpan.FromSeconds(20));
        Run.StartAllWorkers();
        var runId = Run.Start();
        // Right after the manifest moved: a preference model has just been recorded Done.
        var before = Run.WaitFor(runId, m => FindStage(m, "train-pm/", s => State(s) == "Done") is not null, TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        var blobsBefore = RunStorage.Names($"runs/{runId}/").ToHashSet();

        Servers.Kill("azurite");
        Servers.StartServers();

        var after = Manifest(runId);
        var regressed = before.GetProperty("stages").EnumerateObject()
            .Where(r => !after.GetProperty("stages").TryGetProperty(r.Name, out var now) || State(now) != State(r.Value)).Select(r => r.Name).ToList();
        var blobsLost = blobsBefore.Except(RunStorage.Names($"runs/{runId}/")).Count();
        output.WriteLine($"after the SIGKILL Azurite had lost {blobsLost} of the run's {blobsBefore.Count} blobs; "
            + $"the manifest had gone back on {regressed.Count} records: {string.Join(", ", regressed)}");

        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(10));
        // Every output referenced is there and intact. A blob whose reference was among the lost writes stays
        // behind unreferenced (real Azure Storage loses no acknowledged write, so this is Azurite's only).
        AssertCompleteAndIntact(runId, done, allowUnreferenced: true);
        var resent = done.GetProperty("stages").EnumerateObject().Where(r => Resent(r.Value) > 0).Select(r => r.Name).ToList();
        output.WriteLine($"re-sent by the supervisor: {(resent.Count == 0 ? "nothing" : string.Join(", ", resent))}");
        Assert.All(Run.Processes.Workers, w => Assert.False(w.Process.HasExited, $"{w.Name} exited:\n{Run.Processes.Logs()}"));
    }

    [Fact]
    public void A_stage_command_purged_from_its_queue_is_sent_again_by_the_supervisor_and_the_run_completes()
    {
        Run.SuperviseWithin(TimeSpan.FromSeconds(30));
        Run.StartAllWorkers(except: "Morlaif.Evaluator");
        var runId = Run.Start();
        // Both policies trained: their PolicyTrained events wait in the evaluator's queue. An operator purges it.
        Run.WaitFor(runId, _ => Servers.QueueDepth(Run.VirtualHost, "morlaif-evaluate").Ready >= 2, TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        Servers.Purge(Run.VirtualHost, "morlaif-evaluate");
        Run.StartWorker("Morlaif.Evaluator");

        var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(6));
        AssertCompleteAndIntact(runId, done);
        var evaluate = Stage(done, "evaluate");
        Assert.True(Resent(evaluate) >= 1, $"evaluate was not re-sent: {evaluate}");
        Assert.Equal(1, evaluate.GetProperty("attempts").GetInt32());
        Assert.Contains("re-sent evaluate", Run.Processes.Logs(full: true));
        // Whether anything else was re-sent depends on the machine (a lease without one heartbeat, on a machine
        // loaded many times over): not asserted; a re-send of a finished record is a no-op at its gate.
    }
}
