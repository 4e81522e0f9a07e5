using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.Learning.TextRuns;
using Morlaif.Storage;
using Morlaif.TestServers;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Text;
using static TorchSharp.torch;

namespace Morlaif.Workers.Tests;

/// <summary>GRPO and RLOO on a text run: a LoRA policy without a value head, trained, evaluated and exported as PPO's is.</summary>
[Trait("Category", "Slow")]
public class TextAlgorithmSpecs
{
    [Fact]
    public async Task A_text_run_trains_grpo_and_rloo_arms_without_a_value_head_and_exports_them()
    {
        await using var judge = new FakeChatServer().Then(new FakeChatServer.PreferLonger(0.9));
        using var files = new TextRunFiles("gpt2", judge.Endpoint.ToString(), sft: false, iterations: 2, arms: """
            [ { "name": "morlaif", "ppo": { "algorithm": "grpo", "groupSize": 4, "rewardNormalization": "group", "iterations": 2, "rolloutsPerIteration": 8, "maxNewTokens": 12, "epochs": 2, "learningRate": 0.001 } },
              { "name": "baseline", "reward": "baseline", "ppo": { "algorithm": "rloo", "groupSize": 2, "iterations": 2, "rolloutsPerIteration": 8, "maxNewTokens": 12, "epochs": 2, "learningRate": 0.001 } } ]
            """);
        var config = RunConfig.Load(files.Config);
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var runId = await pipeline.StartRunAsync(config);
        var m = await pipeline.WaitAsync(runId, timeout: TimeSpan.FromMinutes(8));
        Assert.True(m.State == RunState.Completed, $"{m.State}: {m.Error}");

        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));
        Assert.All(report.Ppo.Values.SelectMany(s => s), s => Assert.True(double.IsNaN(s.ValueLoss) && double.IsNaN(s.ExplainedVariance) && s.Entropy > 0, s.ToString()));
        Assert.Equal(["conciseness", "helpfulness"], report.Ppo["morlaif"][^1].PrincipleRewards!.Keys.Order());
        Assert.Equal(2, report.Ppo["baseline"][^1].Monitor!.Count); // the judge watched both arms, as a text run's default
        Assert.Equal(config.Evaluation.Prompts, report.Evaluation!.JudgeVsBaseline.Total);

        // The checkpoint holds the adapter alone (no value head), and the exported policy is that adapter merged into the base:
        // the same logits as the SFT policy with the arm's adapter.
        var checkpoint = await pipeline.Store.GetAsync(m.Stages[StageKeys.FinalPpoChunk(config, "morlaif")].Outputs[StageOutputs.Checkpoint]);
        using (var c = Learning.Checkpoints.Checkpoint.FromBytes(checkpoint, Learning.Ppo.PpoLearner.CheckpointKind))
            Assert.DoesNotContain(c.Tensors.Keys, n => n.StartsWith(Learning.HuggingFace.Lora.HfPpoPolicy.ValueHeadPrefix, StringComparison.Ordinal));
        var exported = Path.Combine(files.Root, "exported");
        var text = pipeline.Get<TextStages>();
        var artifacts = pipeline.Get<RunArtifacts>();
        await TextExport.PolicyAsync(text, artifacts, m, "morlaif", exported, CancellationToken.None);
        using var run = await text.RunAsync(m, await artifacts.ContextAsync(m, CancellationToken.None), CancellationToken.None);
        using var sft = run.LoadSftPolicy(await text.SftAdapterAsync(m, CancellationToken.None));
        using var policy = TextPpoStage.Policy(run, sft, checkpoint, config.ForArm(config.Arm("morlaif")).Ppo);
        using var loaded = HfModelFolder.Load(exported);
        var ids = tensor(new long[] { 5, 40, 77, 120, 9, 256 }).unsqueeze(0);
        var mask = ones_like(ids);
        using var _ = no_grad();
        var difference = (loaded.Forward(ids, mask) - policy.Logits(ids, mask)).abs().max().item<float>();
        Assert.True(difference < 1e-4, $"exported policy's logits differ by {difference}");
    }
}
