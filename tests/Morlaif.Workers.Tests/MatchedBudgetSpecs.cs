using MassTransit;
using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Tests.Runs;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;
using TorchSharp;

namespace Morlaif.Workers.Tests;

/// <summary>
/// The matched-budget baselines through the workers: each pair judged on as many drawn constitution principles as MORLAIF
/// has principles (two here), one PM per draw and one pooled PM, and a policy on each, with the numbers of one process.
/// </summary>
[Trait("Category", "Slow")]
public class MatchedBudgetSpecs
{
    private static RunConfig Config() => TinyRun.Config(seed: 7) with
    {
        Arms =
        [
            new() { Name = "morlaif" },
            new() { Name = "baseline", Reward = ScalarizationStage.BaselineArm },
            new() { Name = "pooled", Reward = ScalarizationStage.PooledArm },
            new() { Name = "ensemble", Reward = ScalarizationStage.EnsembleArm },
        ],
    };

    [Fact]
    public async Task Matched_budget_arms_train_on_every_draw_with_the_numbers_of_one_process()
    {
        var config = Config();
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var runId = await pipeline.StartRunAsync(config);
        var m = await pipeline.WaitAsync(runId);
        await pipeline.QuietAsync();
        Assert.True(m.State == RunState.Completed, $"{m.State}: {m.Error}");
        Assert.False(pipeline.Harness.Published.Select<Fault>().Any());

        // The judge answered each pair twice for the baseline (its draw and one more), and the pooled PM learnt from both.
        Assert.Equal(["helpfulness", "conciseness", "constitution", "constitution-2"], m.Questions);
        foreach (var key in new[] { StageKeys.Label("constitution-2"), StageKeys.TrainPm("constitution-2"), StageKeys.TrainPm("constitution+pooled") })
            Assert.Equal(StageState.Done, m.Stages[key].State);
        Assert.Equal(4, pipeline.PublishedCount<PrincipleLabelled>(runId, e => e.RunId));
        Assert.Equal(5, pipeline.PublishedCount<PreferenceModelTrained>(runId, e => e.RunId));
        // The last draw's labels started the pooled PM: one command, no more.
        Assert.Single(pipeline.Harness.Sent.Select<TrainPreferenceModel>(), s => s.Context.Message.RunId == runId && s.Context.Message.Principle == "constitution+pooled");

        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));
        Assert.Equal(["conciseness", "constitution", "constitution+pooled", "constitution-2", "helpfulness"], report.PreferenceModels.Keys.Order(StringComparer.Ordinal));
        // Both matched baselines are measured beside the objectives, on the same truth-decided pairs.
        Assert.InRange(report.ObjectiveAccuracy[ScalarizationStage.PooledArm], 0.01, 0.99);
        Assert.InRange(report.ObjectiveAccuracy[ScalarizationStage.EnsembleArm], 0.01, 0.99);
        Assert.Equal(["baseline", "ensemble", "morlaif", "pooled"], report.Ppo.Keys.Order(StringComparer.Ordinal));

        // Every number is that of one process that trained the same PMs and arms in turn.
        var direct = new ReferenceRun(config, torch.CPU).Execute("direct");
        string Comparable(RunReport r) => ReportFiles.ToJson(r with { RunId = "", CreatedAt = default, Timings = new Dictionary<string, double>() });
        Assert.Equal(Comparable(direct), Comparable(report));
    }

    [Fact]
    public void The_pooled_pm_learns_from_every_draws_labels_and_the_ensemble_averages_the_draws_pms()
    {
        var config = Config();
        Assert.Equal(["constitution", "constitution-2"], PmQuestions.Draws(config));
        var (pooledLabels, human) = PmQuestions.TrainedOn("constitution+pooled", config);
        Assert.Equal(["constitution", "constitution-2"], pooledLabels);
        Assert.False(human);
        Assert.Equal(["constitution", "constitution-2"], ScalarizationStage.RewardQuestions(ScalarizationStage.EnsembleArm, config));

        // The pooled PM trains on every draw's labels; the ensemble is the mean of its draws' PMs' normalised scores.
        var ctx = new Learning.World.WorldRun(config, torch.CPU);
        var sft = ctx.NewPolicy();
        var pairs = ctx.SamplePairs(sft);
        var labels = PmQuestions.Draws(config).ToDictionary(q => q, q => LabellingStage.Label(ctx, pairs, q));
        using (var pooled = PreferenceModelStage.Start(ctx, sft, pairs, "constitution+pooled", [.. labels.Values]))
            Assert.Equal(2 * pairs.Train.Count, pooled.Pairs.Count);
        var pms = labels.ToDictionary(kv => kv.Key, kv => PreferenceModelStage.Train(ctx, sft, pairs, kv.Key, [kv.Value]));
        var ensemble = ScalarizationStage.Reward(ScalarizationStage.EnsembleArm, ctx, null, pms).Score([.. pairs.Test.Select(p => p.SequenceA())]);
        var first = ScalarizationStage.Reward(ScalarizationStage.BaselineArm, ctx, null, pms).Score([.. pairs.Test.Select(p => p.SequenceA())]);
        var second = new Learning.Ppo.PreferenceModelReward([ScalarizationStage.Scorers(pms)("constitution-2")],
            new Learning.Scalarization.ScalarizedReward([1.0], new Learning.Scalarization.WeightedLinear())).Score([.. pairs.Test.Select(p => p.SequenceA())]);
        for (var i = 0; i < ensemble.Length; i++) Assert.Equal((first[i] + second[i]) / 2, ensemble[i], 9);
    }
}
