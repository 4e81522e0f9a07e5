using MassTransit;
using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.Runs;
using Morlaif.Storage;
using TorchSharp;

namespace Morlaif.Workers.Tests;

/// <summary>One tiny run through all five workers on the test harness, shared by the specs below.</summary>
public sealed class CompletedRunFixture : IAsyncLifetime
{
    public PipelineHarness Pipeline { get; } = new(WorkerRegistration.All);
    public string RunId { get; private set; } = "";
    public RunManifest Manifest { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Pipeline.StartAsync();
        RunId = await Pipeline.StartRunAsync(TinyRun.Config());
        Manifest = await Pipeline.WaitAsync(RunId);
        await Pipeline.QuietAsync();
    }

    public async Task DisposeAsync() => await Pipeline.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class CompletedRunCollection : ICollectionFixture<CompletedRunFixture>
{
    public const string Name = "completed tiny run";
}

[Trait("Category", "Slow"), Collection(CompletedRunCollection.Name)]
public class PipelineSpecs(CompletedRunFixture run)
{
    private static readonly string[] Questions = ["helpfulness", "conciseness", "constitution"];

    [Fact]
    public void The_run_completes_with_every_stage_done()
    {
        Assert.Equal(RunState.Completed, run.Manifest.State);
        Assert.All(run.Manifest.Stages, kv => Assert.Equal(StageState.Done, kv.Value.State));
        foreach (var q in Questions)
        {
            Assert.Contains(StageKeys.Label(q), run.Manifest.Stages.Keys);
            Assert.Contains(StageKeys.TrainPm(q), run.Manifest.Stages.Keys);
        }
        // 4 iterations in chunks of 2: two chunks per arm.
        Assert.Contains(StageKeys.PpoChunk("morlaif", 2), run.Manifest.Stages.Keys);
        Assert.Contains(StageKeys.PpoChunk("baseline", 2), run.Manifest.Stages.Keys);
        Assert.False(run.Pipeline.Harness.Published.Select<Fault>().Any());
    }

    [Fact]
    public void Each_stage_published_its_event_once()
    {
        var p = run.Pipeline;
        Assert.Equal(1, p.PublishedCount<SftPolicyTrained>(run.RunId, m => m.RunId));
        Assert.Equal(Questions.Length, p.PublishedCount<PrincipleLabelled>(run.RunId, m => m.RunId));
        Assert.Equal(Questions.Length, p.PublishedCount<PreferenceModelTrained>(run.RunId, m => m.RunId));
        Assert.Equal(2, p.PublishedCount<RewardReady>(run.RunId, m => m.RunId));
        Assert.Equal(2, p.PublishedCount<PolicyTrained>(run.RunId, m => m.RunId));
        Assert.Equal(1, p.PublishedCount<RunEvaluated>(run.RunId, m => m.RunId));
        Assert.Equal(2, p.Harness.Sent.Select<RunPpoIteration>().Count(m => m.Context.Message.RunId == run.RunId)); // one follow-up chunk per arm
    }

    [Fact]
    public async Task The_report_in_storage_has_the_same_fields_and_numbers_as_the_in_process_run()
    {
        var json = await run.Pipeline.Store.GetAsync(run.Manifest.Stages[StageKeys.Evaluate].Outputs["report"]);
        var viaBus = System.Text.Json.JsonSerializer.Deserialize<RunReport>(json, RunConfig.Json)!;
        var direct = new ReferenceRun(TinyRun.Config(), torch.CPU).Execute("direct");

        // Every stage ran in its own message, PMs and policies went through storage, and PPO was cut into
        // checkpointed chunks; the numbers must still be exactly those of one uninterrupted process.
        Assert.Equal(Json(direct.PreferenceModels), Json(viaBus.PreferenceModels));
        Assert.Equal(Json(direct.Weights), Json(viaBus.Weights));
        Assert.Equal(Json(direct.ObjectiveAccuracy), Json(viaBus.ObjectiveAccuracy));
        Assert.Equal(Json(direct.Ablation), Json(viaBus.Ablation));
        Assert.Equal(Json(direct.Ppo), Json(viaBus.Ppo));
        Assert.Equal(Json(direct.Evaluation), Json(viaBus.Evaluation));
        Assert.Equal(direct.Timings.Keys.Order(), viaBus.Timings.Keys.Order());
        Assert.Equal(Json(direct.Judge), Json(viaBus.Judge));
        // And the whole report.json, byte for byte, once what may differ is set aside: the run's id, when it was made, timings.
        string Comparable(RunReport r) => ReportFiles.ToJson(r with { RunId = "", CreatedAt = default, Timings = new Dictionary<string, double>() });
        Assert.Equal(Comparable(direct), Comparable(viaBus));
    }

    [Fact]
    public async Task A_redelivered_duplicate_of_any_stage_message_makes_no_new_output_and_no_new_event()
    {
        var p = run.Pipeline;
        var m = run.Manifest;
        var before = CountFiles(p.Root);
        var publishedBefore = p.Harness.Published.Select<object>().Count();
        await p.Harness.Bus.Publish(new RunStarted { RunId = run.RunId, Config = m.Config });
        await p.Harness.Bus.Publish(new SftPolicyTrained { RunId = run.RunId, Policy = Out(StageKeys.Sft, "policy"), Pairs = Out(StageKeys.Sft, "pairs") });
        await p.Harness.Bus.Publish(new PrincipleLabelled { RunId = run.RunId, Principle = "conciseness", Labels = Out(StageKeys.Label("conciseness"), "labels") });
        await p.Harness.Bus.Publish(new PreferenceModelTrained { RunId = run.RunId, Principle = "constitution", Model = Out(StageKeys.TrainPm("constitution"), "model") });
        await p.Harness.Bus.Publish(new RewardReady { RunId = run.RunId, Arm = "baseline", Objective = Out(StageKeys.Scalarize, "objective") });
        await p.Harness.Bus.Publish(new PolicyTrained { RunId = run.RunId, Arm = "morlaif", Checkpoint = Out(StageKeys.PpoChunk("morlaif", 2), "checkpoint") });
        await p.QuietAsync();

        Assert.Equal(publishedBefore + 6, p.Harness.Published.Select<object>().Count()); // only the six duplicates themselves
        Assert.Equal(before, CountFiles(p.Root));
        Assert.Equal(1, p.PublishedCount<RunEvaluated>(run.RunId, x => x.RunId));
        Assert.False(p.Harness.Published.Select<Fault>().Any());
    }

    private ArtifactReference Out(string stage, string name) => run.Manifest.Stages[stage].Outputs[name];

    private static int CountFiles(string root) => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Count(f => !f.EndsWith(".lock", StringComparison.Ordinal));

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, RunConfig.Json);
}
