using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// At-least-once delivery means duplicates, and a shared deployment means several runs at once. Two runs
/// go through the same workers while a command for one of them is delivered twice (the same message,
/// twice): each artifact is written once, each downstream event goes out once, and neither run reads or
/// writes the other's artifacts.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DuplicateAndConcurrentRunTests : DistributedTest
{
    [Fact]
    public async Task Two_runs_at_once_with_a_command_delivered_twice_complete_with_every_artifact_and_event_once()
    {
        var trained = await Servers.WitnessAsync(Run.VirtualHost, "PreferenceModelTrained");
        Run.StartAllWorkers();
        var runs = new[] { Run.Start(), Run.Start() };
        Assert.NotEqual(runs[0], runs[1]);

        // Once run A's helpfulness labels exist, the command to train that PM arrives twice, as one message
        // duplicated by a publisher (same message id), on top of the event that already asks for it.
        Run.WaitFor(runs[0], m => FindStage(m, "label/helpfulness", s => State(s) == "Done") is not null, TimeSpan.FromMinutes(6), failIfCompletedFirst: true);
        var command = Envelope("TrainPreferenceModel", $$"""{"runId":"{{runs[0]}}","principle":"helpfulness"}""");
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-train-pm", command);
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-train-pm", command);

        foreach (var runId in runs)
        {
            var done = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(8));
            AssertCompleteAndIntact(runId, done);
            // Every artifact the run references is its own.
            foreach (var stage in done.GetProperty("stages").EnumerateObject())
            foreach (var output in stage.Value.GetProperty("outputs").EnumerateObject())
                Assert.StartsWith($"runs/{runId}/", output.Value.GetProperty("name").GetString());
            // Downstream of the duplicated command, everything ran once.
            foreach (var key in new[] { "scalarize", "ppo/morlaif/0000", "ppo/baseline/0000", "evaluate" })
                Assert.Equal(1, Stage(done, key).GetProperty("attempts").GetInt32());
        }
        // Neither copy of the command is left waiting or failed: each was taken, as a no-op or as the one training.
        Assert.Empty(await Servers.PeekAsync(Run.VirtualHost, "morlaif-train-pm"));
        Assert.Empty(await Servers.PeekAsync(Run.VirtualHost, "morlaif-train-pm_error"));

        // One PreferenceModelTrained per principle per run was published: the duplicates published nothing.
        // Every message routed to the trainers' queue has been consumed and acknowledged (and an event is
        // published before its message is acknowledged), so the witness queue's count is final.
        Run.WaitForDrained("morlaif-train-pm", TimeSpan.FromMinutes(2));
        Assert.Equal((runs.Length * Questions.Length, 0L), Servers.QueueDepth(Run.VirtualHost, trained));
    }
}
