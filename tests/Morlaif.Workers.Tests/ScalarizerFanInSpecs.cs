using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Workers.Tests;

[Trait("Category", "Slow"), Collection(CompletedRunCollection.Name)]
public class ScalarizerFanInSpecs(CompletedRunFixture run)
{
    public static TheoryData<string[]> ArrivalOrders()
    {
        string[] q = ["helpfulness", "conciseness", "constitution"];
        var data = new TheoryData<string[]>();
        foreach (var a in q)
            foreach (var b in q.Where(x => x != a))
                data.Add([a, b, q.Single(x => x != a && x != b)]);
        return data;
    }

    [Theory, MemberData(nameof(ArrivalOrders))]
    public async Task The_objective_is_fitted_exactly_once_whatever_the_arrival_order(string[] order)
    {
        // Only the scalarizer runs here, on the completed run's artifacts, in a fresh run whose PMs arrive in this order.
        await using var scalarizer = new PipelineHarness([WorkerRegistration.Scalarizer], run.Pipeline.Root);
        await scalarizer.StartAsync();
        var source = run.Manifest;
        var runId = $"fan-in-{string.Join("-", order.Select(q => q[..3]))}-{Guid.NewGuid():N}"[..40];
        var manifest = new RunManifest { RunId = runId, Config = source.Config, Questions = source.Questions };
        foreach (var (key, stage) in source.Stages.Where(kv => kv.Key == StageKeys.Sft || kv.Key.StartsWith(StageKeys.Label(""), StringComparison.Ordinal)))
            manifest.Stages[key] = stage;
        Assert.True(await scalarizer.Manifests.CreateAsync(manifest));

        for (var i = 0; i < order.Length; i++)
        {
            var key = StageKeys.TrainPm(order[i]);
            await scalarizer.Manifests.UpdateAsync(runId, m =>
            {
                m.Stages[key] = source.Stages[key];
                return true;
            });
            await scalarizer.Harness.Bus.Publish(new PreferenceModelTrained { RunId = runId, Principle = order[i], Model = source.Stages[key].Outputs["model"] });
            if (i < order.Length - 1)
            {
                await scalarizer.QuietAsync();
                Assert.False((await scalarizer.Manifests.ReadAsync(runId))!.Stages.ContainsKey(StageKeys.Scalarize));
                Assert.Equal(0, scalarizer.PublishedCount<RewardReady>(runId, m => m.RunId));
            }
        }
        // Quiet once the last PM's event has been handled: the fit (seconds of work) is done and both rewards are out.
        await scalarizer.QuietAsync();
        Assert.Equal(2, scalarizer.PublishedCount<RewardReady>(runId, m => m.RunId));
        var done = (await scalarizer.Manifests.ReadAsync(runId))!;
        Assert.Equal(StageState.Done, done.Stages[StageKeys.Scalarize].State);
        // A late duplicate of the first PM event must not fit or announce again.
        await scalarizer.Harness.Bus.Publish(new PreferenceModelTrained { RunId = runId, Principle = order[0], Model = source.Stages[StageKeys.TrainPm(order[0])].Outputs["model"] });
        await scalarizer.QuietAsync();
        var after = (await scalarizer.Manifests.ReadAsync(runId))!;

        Assert.Equal(1, after.Stages[StageKeys.Scalarize].Attempts);
        Assert.Equal(2, scalarizer.PublishedCount<RewardReady>(runId, m => m.RunId));
        Assert.Equal(source.Stages[StageKeys.Scalarize].Outputs["objective"].Sha256, done.Stages[StageKeys.Scalarize].Outputs["objective"].Sha256);
    }
}
