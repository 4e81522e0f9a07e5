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

        // One PreferenceModelTrained per principle per run reached the scalarizer's queue: the duplicates
        // published nothing. (The management API's counters lag by a few seconds.)
        var expected = runs.Length * Questions.Length;
        long published = 0;
        for (var i = 0; i < 30 && published < expected; i++)
        {
            await Task.Delay(1000);
            published = await Servers.PublishedToAsync(Run.VirtualHost, "morlaif-scalarize");
        }
        await Task.Delay(6000);
        Assert.Equal(expected, await Servers.PublishedToAsync(Run.VirtualHost, "morlaif-scalarize"));
        var trainPm = await Servers.PublishedToAsync(Run.VirtualHost, "morlaif-train-pm");
        Assert.Equal(expected + 2, trainPm); // the labelled events, and the two copies of the command
    }
}
