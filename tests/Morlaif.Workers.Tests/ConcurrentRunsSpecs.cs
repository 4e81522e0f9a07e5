using MassTransit;
using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using Morlaif.Storage;
using TorchSharp;

namespace Morlaif.Workers.Tests;

[Trait("Category", "Slow")]
public class ConcurrentRunsSpecs
{
    [Fact]
    public async Task Two_runs_at_once_both_complete_each_with_its_own_artifacts_and_events()
    {
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var first = pipeline.StartRunAsync(TinyRun.Config(seed: 21));
        var second = pipeline.StartRunAsync(TinyRun.Config(seed: 22));
        var ids = new[] { await first, await second };
        foreach (var id in ids) Assert.Equal(RunState.Completed, (await pipeline.WaitAsync(id)).State);
        await pipeline.QuietAsync();

        foreach (var (id, seed) in ids.Zip([21, 22]))
        {
            Assert.Equal(1, pipeline.PublishedCount<RunEvaluated>(id, m => m.RunId));
            Assert.Equal(3, pipeline.PublishedCount<PreferenceModelTrained>(id, m => m.RunId));
            // Every artifact a run's manifest references lives under that run's own prefix.
            var manifest = (await pipeline.Manifests.ReadAsync(id))!;
            Assert.All(manifest.Stages.Values.SelectMany(s => s.Outputs.Values), r => Assert.StartsWith($"runs/{id}/", r.Name));
            // Both runs' stages shared one process (and libtorch's generator); each policy is still the one
            // its config makes alone.
            var alone = SftStage.Train(new WorldRun(TinyRun.Config(seed: seed), torch.CPU)).Policy;
            Assert.Equal(ArtifactNames.Sha256(alone.ToBytes()), manifest.Stages[StageKeys.Sft].Outputs["policy"].Sha256);
        }
        Assert.False(pipeline.Harness.Published.Select<Fault>().Any());
    }

    [Fact]
    public async Task A_message_whose_run_id_has_path_characters_faults_without_touching_storage()
    {
        await using var pipeline = new PipelineHarness([WorkerRegistration.Labeller]);
        await pipeline.StartAsync();
        var reference = new ArtifactReference { Container = "morlaif", Name = "runs/x/y/z", Sha256 = new string('0', 64), Length = 1 };
        await pipeline.Harness.Bus.Publish(new SftPolicyTrained { RunId = "../../etc", Policy = reference, Pairs = reference });
        await pipeline.QuietAsync();
        var consumed = pipeline.Harness.Consumed.Select<SftPolicyTrained>().ToList();
        Assert.True(await pipeline.Harness.Published.Any<Fault<SftPolicyTrained>>(),
            $"consumed {consumed.Count}, exception: {consumed.FirstOrDefault()?.Exception}; published: {string.Join(", ", pipeline.Harness.Published.Select<object>().Select(m => m.MessageType.Name))}");
        var fault = pipeline.Harness.Published.Select<Fault<SftPolicyTrained>>().First().Context.Message;
        Assert.Contains("not valid", fault.Exceptions[0].Message);
        Assert.False(pipeline.Harness.Published.Select<PrincipleLabelled>().Any());
        Assert.False(Directory.Exists(pipeline.Root) && Directory.EnumerateFiles(pipeline.Root, "*", SearchOption.AllDirectories).Any());
    }
}
