using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.TextRuns;
using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.Storage;
using Morlaif.TestServers;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Text;
using static TorchSharp.torch;

namespace Morlaif.Workers.Tests;

/// <summary>
/// MORLAIF on text, every stage through the five workers on the in-memory bus: a tiny random GPT-2 checkpoint, HH-RLHF
/// prompts and human pairs, SFT data, and the fake chat server as the judge. Numbers from random weights mean nothing
/// and are not asserted; shapes, counts, what was stored, determinism for a seed, and that each PM's training lowered
/// its loss on its own labels are.
/// </summary>
[Trait("Category", "Slow")]
public class TextPipelineSpecs
{
    [Fact]
    public async Task A_text_run_completes_through_every_stage_stores_what_it_read_and_repeats_itself_for_its_seed()
    {
        await using var judge = new FakeChatServer().Then(new FakeChatServer.PreferLonger(0.9));
        using var files = new TextRunFiles("gpt2", judge.Endpoint.ToString(), sft: true);
        var config = RunConfig.Load(files.Config);
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();

        var runId = await pipeline.StartRunAsync(config);
        var m = await pipeline.WaitAsync(runId, timeout: TimeSpan.FromMinutes(8));
        Assert.True(m.State == RunState.Completed, $"{m.State}: {m.Error}");

        // The inputs travelled through the store: the model's files and the drawn data, referenced by the manifest.
        Assert.Equal([TextRunStore.Data, TextRunStore.Model], m.Inputs.Keys);
        Assert.Equal(["helpfulness", "conciseness", "constitution"], m.Questions);
        // Every record is Done and every output it references reads back with its recorded hash.
        var plan = RunPlan.Of(m, config);
        foreach (var (_, key) in plan.Records)
        {
            Assert.True(PipelineDefinition.IsDone(m, key), $"{key} is {m.Stages.GetValueOrDefault(key)?.State}");
            foreach (var output in m.Stages[key].Outputs.Values) await pipeline.Store.GetAsync(output);
        }

        // Every judge call the dry run promises was made, once: labels per principle and the baseline's in both orders, and
        // the evaluation; and the monitor's, at most as many as promised (a question both arms' policies answer alike is
        // asked once: the judge cache answers the second).
        var costs = TextRunCosts.Of(config, sftExamples: 16);
        Assert.InRange(judge.Requests, costs.JudgeCalls - costs.MonitorJudgeCalls + 1, costs.JudgeCalls);
        var pairs = PairSet<string>.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Sft].Outputs[StageOutputs.Pairs]));
        Assert.Equal((config.Pairs.Train, config.Pairs.Test), (pairs.Train.Count, pairs.Test.Count));
        Assert.All(pairs.Train.Concat(pairs.Test), p => Assert.True(p.A.Length is > 0 and <= 12 && p.B.Length is > 0 and <= 12));

        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));
        Assert.Equal(config.Evaluation.Prompts, report.Evaluation!.JudgeVsBaseline.Total);
        Assert.Null(report.Evaluation.VsBaseline); // no truth to compare by: the judge alone decides
        Assert.Equal(2, report.Model!.SftLosses!.Count);
        Assert.Equal(8, report.ObjectiveAccuracy.Count);
        Assert.All(config.PolicyArms, arm => Assert.Equal(config.Ppo.Iterations, report.Ppo[arm.Name].Count));
        // A text run has no truth: the judge watched each arm's policy (on by default), per principle.
        Assert.All(config.PolicyArms, arm => Assert.Equal(["conciseness", "helpfulness"], report.Ppo[arm.Name][^1].Monitor!.Keys.Order()));
        Assert.Equal(config.PolicyArms.Select(a => a.Name).Order(), report.Monitor!.Keys.Order());
        Assert.All(report.Monitor.Values, a => Assert.Null(a.TruthFlagged));
        // The judge prefers the longer answer: labels the PMs can learn, and did, on their own training pairs.
        Assert.All(report.PreferenceModels, pm => Assert.True(pm.Value.FinalTrainLoss < pm.Value.InitialTrainLoss, $"{pm.Key}: {pm.Value.InitialTrainLoss:F4} -> {pm.Value.FinalTrainLoss:F4}"));
        var markdown = System.Text.Encoding.UTF8.GetString(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.ReportMarkdown]));
        Assert.Contains("| by the judge, both orders (95% Wilson intervals", markdown);

        // The exported policy is the policy the learner trained: the same logits as the SFT policy with the arm's adapter.
        var exported = Path.Combine(files.Root, "exported");
        var text = pipeline.Get<TextStages>();
        var artifacts = pipeline.Get<RunArtifacts>();
        await TextExport.PolicyAsync(text, artifacts, m, ScalarizationStage.MorlaifArm, exported, CancellationToken.None);
        using (var run = await text.RunAsync(m, await artifacts.ContextAsync(m, CancellationToken.None), CancellationToken.None))
        using (var sft = run.LoadSftPolicy(await text.SftAdapterAsync(m, CancellationToken.None)))
        using (var policy = TextPpoStage.Policy(run, sft, await pipeline.Store.GetAsync(m.Stages[StageKeys.FinalPpoChunk(config, "morlaif")].Outputs[StageOutputs.Checkpoint]), config.Ppo))
        using (var loaded = HfModelFolder.Load(exported))
        {
            var ids = tensor(new long[] { 5, 40, 77, 120, 9, 256 }).unsqueeze(0);
            var mask = ones_like(ids);
            using var _ = no_grad();
            var (expected, _) = policy.LogitsAndValues(ids, mask);
            var difference = (loaded.Forward(ids, mask) - expected).abs().max().item<float>();
            Assert.True(difference < 1e-4, $"exported policy's logits differ by {difference}");
        }
        Assert.True(File.Exists(Path.Combine(exported, "vocab.json")) && File.Exists(Path.Combine(exported, "merges.txt")));
        var pmFolder = Path.Combine(files.Root, "pm-helpfulness");
        await TextExport.PreferenceModelAsync(text, artifacts, m, "helpfulness", pmFolder, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(pmFolder, "adapter_config.json")) && File.Exists(Path.Combine(pmFolder, "adapter_model.safetensors")));

        // The same config and seed again: the same pairs, so every judge question is answered from the store's cache,
        // and the same labels, PMs, weights and PPO checkpoints, byte for byte.
        var requests = judge.Requests;
        var again = await pipeline.WaitAsync(await pipeline.StartRunAsync(config), timeout: TimeSpan.FromMinutes(8));
        Assert.Equal(RunState.Completed, again.State);
        Assert.Equal(requests, judge.Requests);
        foreach (var key in plan.Records.Select(r => r.Key).Where(k => k != StageKeys.Evaluate))
            foreach (var (name, output) in m.Stages[key].Outputs)
                Assert.True(output.Sha256 == again.Stages[key].Outputs[name].Sha256, $"{key} {name} differs between two runs of one seed");
    }
}
