using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers.Labeller;
using Morlaif.Workers.Learner;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.PreferenceTrainer;
using TorchSharp;

namespace Morlaif.Workers.Backends;

/// <summary>The synthetic world's stages: its small transformer, its word tokenizer, its judge (or a chat judge) and its truth.</summary>
public sealed class WorldStages(RunArtifacts artifacts, StageCheckpoints checkpoints, ILogger<WorldStages> log) : IStageBackend
{
    public async Task<StageOutput> SftAsync(RunManifest m, RunContext ctx, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var (policy, loss, demos) = SftStage.Train(ctx);
        using var trained = policy; // stored below; the worker keeps no copy
        var sftSeconds = clock.Elapsed.TotalSeconds;
        log.LogInformation("run {RunId}: SFT on {Demos} demonstrations, final loss {Loss:F3}", m.RunId, demos, loss);
        clock.Restart();
        var pairs = PairSamplingStage.Sample(ctx, policy);
        var outputs = new Dictionary<string, ArtifactReference>
        {
            [StageOutputs.Policy] = await artifacts.Store.PutAsync(m.RunId, "sft-policy", policy.ToBytes(), cancel),
            [StageOutputs.Pairs] = await artifacts.Store.PutAsync(m.RunId, "pairs", pairs.ToJson(), cancel),
        };
        return new StageOutput(outputs, new() { [SftParts.Train] = sftSeconds, [SftParts.Pairs] = clock.Elapsed.TotalSeconds });
    }

    public async Task<LabelSet> LabelAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel)
    {
        var pairs = await artifacts.PairsAsync(m, cancel);
        return ctx.Config.Judge.Kind == "openai"
            ? await ChatJudgeLabelling.LabelAsync(ctx.Config, pairs.Train, pairs.Test, question, new ArtifactJudgeCache(artifacts.Store), cancel)
            : LabellingStage.Label(ctx, pairs, question);
    }

    public async Task<ArtifactReference> TrainPmAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel)
    {
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var pairs = await artifacts.PairsAsync(m, cancel);
        var labels = await artifacts.LabelsAsync(m, question, cancel);
        using var trainer = await PmEpochs.TrainAsync(checkpoints, m, StageKeys.TrainPm(question), PmEpochs.Inputs(m, question),
            checkpoint => PreferenceModelStage.Start(ctx, sft, pairs, labels, checkpoint), log, cancel);
        var pm = PreferenceModelStage.Finish(trainer, pairs, labels);
        using var model = pm.Model; // stored below; the worker keeps no copy
        log.LogInformation("run {RunId}: PM {Question} held-out accuracy {Accuracy:F3}", m.RunId, question, pm.Stats.HeldOutAccuracy);
        return await artifacts.Store.PutAsync(m.RunId, $"pm-{question}", pm.ToBytes(), cancel);
    }

    public async Task<ObjectiveFit> ScalarizeAsync(RunManifest m, RunContext ctx, CancellationToken cancel) =>
        ScalarizationStage.Fit(ctx, await artifacts.PairsAsync(m, cancel), await artifacts.PreferenceModelsAsync(m, ctx, cancel));

    public async Task<Dictionary<string, ArtifactReference>> PpoChunkAsync(RunManifest m, RunContext ctx, string arm, int start, int end, CancellationToken cancel)
    {
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var pms = await artifacts.PreferenceModelsAsync(m, ctx, cancel);
        var fit = arm == ScalarizationStage.MorlaifArm ? await artifacts.ObjectiveAsync(m, cancel) : null;
        var reward = ScalarizationStage.Reward(arm, ctx, fit, pms);
        return await PpoChunk.RunAsync(artifacts, checkpoints, m, arm, start, end, ctx.Config.Ppo,
            () => PpoStage.Learner(ctx, sft, reward), learner => PpoStage.Iterate(ctx, learner), log, cancel);
    }

    public async Task<RunReportFiles> EvaluateAsync(RunManifest m, RunContext ctx, Func<double, Dictionary<string, double>> timings, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var policies = new Dictionary<string, PolicyModel>();
        var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
        foreach (var arm in RunPlan.Arms)
        {
            var outputs = m.Stages[StageKeys.FinalPpoChunk(ctx.Config.Ppo, arm)].Outputs;
            var policy = ctx.NewPolicy();
            WorldPpoPolicy.LoadModel(await artifacts.BytesAsync(outputs[StageOutputs.Checkpoint], cancel), policy);
            policy.to(ctx.Device);
            policies[arm] = policy;
            ppo[arm] = PpoStage.StatsFromJson(await artifacts.BytesAsync(outputs[StageOutputs.Stats], cancel));
        }
        var evaluation = EvaluationStage.Evaluate(ctx, sft, policies[ScalarizationStage.MorlaifArm], policies[ScalarizationStage.BaselineArm]);
        foreach (var policy in policies.Values) policy.Dispose(); // loaded for this evaluation only
        var evaluateSeconds = clock.Elapsed.TotalSeconds;

        var pairs = await artifacts.PairsAsync(m, cancel);
        var disagreed = new Dictionary<string, double>();
        var pmStats = new Dictionary<string, PreferenceModelStats>();
        foreach (var q in ctx.Questions)
        {
            disagreed[q] = (await artifacts.LabelsAsync(m, q, cancel)).OrdersDisagreed;
            pmStats[q] = TrainedPreferenceModel.StatsFromBytes(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.TrainPm(q), StageOutputs.Model), cancel));
        }
        var report = RunReport.Assemble(m.RunId, ctx, (int)sft.parameters().Sum(p => p.numel()), pairs, disagreed,
            pmStats, await artifacts.ObjectiveAsync(m, cancel), ppo, evaluation, timings(evaluateSeconds));
        var e = evaluation.VsBaseline;
        return new RunReportFiles(Encoding.UTF8.GetBytes(ReportFiles.ToJson(report)), Encoding.UTF8.GetBytes(ReportFiles.ToMarkdown(report)),
            $"MORLAIF vs baseline by the true preference: win {e.Win:P1} tie {e.Tie:P1} loss {e.Loss:P1}");
    }
}
