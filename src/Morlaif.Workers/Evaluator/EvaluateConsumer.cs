using Morlaif.Workers.Pipeline;
using System.Diagnostics;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using TorchSharp;

namespace Morlaif.Workers.Evaluator;

/// <summary>
/// When both arms' policies exist: MORLAIF against the baseline on held-out prompts, then report.json and
/// report.md (the same report as the in-process run) are stored and the run is marked Completed.
/// </summary>
public sealed class EvaluateConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<EvaluateConsumer> log) :
    IConsumer<PolicyTrained>, IConsumer<EvaluateRun>
{
    public async Task Consume(ConsumeContext<PolicyTrained> context)
    {
        var manifest = await artifacts.ManifestAsync(context.Message.RunId, context.CancellationToken);
        var plan = RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, context.CancellationToken)).Config.Ppo);
        if (PipelineDefinition.Missing(manifest, plan, StageKeys.Evaluate) is { Count: > 0 } missing)
        {
            log.LogInformation("run {RunId}: policy {Arm} in, waiting for {Missing}", context.Message.RunId, context.Message.Arm, string.Join(", ", missing));
            return;
        }
        await Run(context, manifest);
    }

    public async Task Consume(ConsumeContext<EvaluateRun> context) =>
        await Run(context, await artifacts.ManifestAsync(context.Message.RunId, context.CancellationToken));

    private async Task Run(ConsumeContext context, RunManifest read)
    {
        var cancel = context.CancellationToken;
        var runId = read.RunId;
        await gate.RunAsync(context, read, StageKeys.Evaluate, async manifest =>
        {
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            if (ctx.IsText)
            {
                var textReport = await Text.TextEvaluation.EvaluateAsync(text, artifacts, manifest, ctx, seconds => Timings(manifest, RunPlan.Of(manifest, ctx.Config.Ppo), seconds), cancel);
                var judged = textReport.JudgeVsBaseline;
                log.LogInformation("run {RunId}: MORLAIF vs baseline by the judge: win {Win:P1} tie {Tie:P1} loss {Loss:P1}", runId, judged.Win.Value, judged.Tie.Value, judged.Loss.Value);
                return new Dictionary<string, ArtifactReference>
                {
                    [StageOutputs.Report] = await artifacts.Store.PutAsync(runId, "report-json", Encoding.UTF8.GetBytes(textReport.ToJson()), cancel),
                    [StageOutputs.ReportMarkdown] = await artifacts.Store.PutAsync(runId, "report-md", Encoding.UTF8.GetBytes(textReport.ToMarkdown()), cancel),
                };
            }
            var clock = Stopwatch.StartNew();
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var policies = new Dictionary<string, Learning.Models.PolicyModel>();
            var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
            foreach (var arm in RunPlan.Arms)
            {
                var outputs = manifest.Stages[StageKeys.FinalPpoChunk(ctx.Config.Ppo, arm)].Outputs;
                var policy = ctx.NewPolicy();
                WorldPpoPolicy.LoadModel(await artifacts.BytesAsync(outputs[StageOutputs.Checkpoint], cancel), policy);
                policy.to(ctx.Device);
                policies[arm] = policy;
                ppo[arm] = PpoStage.StatsFromJson(await artifacts.BytesAsync(outputs[StageOutputs.Stats], cancel));
            }
            var evaluation = EvaluationStage.Evaluate(ctx, sft, policies[ScalarizationStage.MorlaifArm], policies[ScalarizationStage.BaselineArm]);
            foreach (var policy in policies.Values) policy.Dispose(); // loaded for this evaluation only
            var evaluateSeconds = clock.Elapsed.TotalSeconds;

            var pairs = await artifacts.PairsAsync(manifest, cancel);
            var disagreed = new Dictionary<string, double>();
            foreach (var q in ctx.Questions) disagreed[q] = (await artifacts.LabelsAsync(manifest, q, cancel)).OrdersDisagreed;
            var pmStats = new Dictionary<string, Learning.Runs.PreferenceModelStats>();
            foreach (var q in ctx.Questions)
                pmStats[q] = TrainedPreferenceModel.StatsFromBytes(await artifacts.BytesAsync(RunArtifacts.Output(manifest, StageKeys.TrainPm(q), StageOutputs.Model), cancel));
            var report = RunReport.Assemble(runId, ctx, (int)sft.parameters().Sum(p => p.numel()), pairs, disagreed,
                pmStats, await artifacts.ObjectiveAsync(manifest, cancel), ppo, evaluation,
                Timings(manifest, RunPlan.Of(manifest, ctx.Config.Ppo), evaluateSeconds));
            log.LogInformation("run {RunId}: MORLAIF vs baseline win {Win:P1} tie {Tie:P1} loss {Loss:P1}", runId,
                evaluation.VsBaseline.Win, evaluation.VsBaseline.Tie, evaluation.VsBaseline.Loss);
            return new Dictionary<string, ArtifactReference>
            {
                [StageOutputs.Report] = await artifacts.Store.PutAsync(runId, "report-json", Encoding.UTF8.GetBytes(ReportFiles.ToJson(report)), cancel),
                [StageOutputs.ReportMarkdown] = await artifacts.Store.PutAsync(runId, "report-md", Encoding.UTF8.GetBytes(ReportFiles.ToMarkdown(report)), cancel),
            };
        }, outputs => context.Publish(new RunEvaluated { RunId = runId, Report = outputs[StageOutputs.Report], ReportMarkdown = outputs[StageOutputs.ReportMarkdown] }, cancel),
        whenDone: m => m.State = RunState.Completed);
    }

    /// <summary>
    /// The report's timings from the manifest: each stage's wall time from its first record's start to its
    /// last record's completion (PPO per arm), plus the SFT stage's own parts.
    /// </summary>
    private static Dictionary<string, double> Timings(RunManifest m, RunPlan plan, double evaluateSeconds)
    {
        double Span(IEnumerable<string> keys)
        {
            var stages = keys.Select(k => m.Stages.GetValueOrDefault(k)).Where(s => s?.StartedAt is not null && s.CompletedAt is not null).ToList();
            return stages.Count == 0 ? 0 : (stages.Max(s => s!.CompletedAt!.Value) - stages.Min(s => s!.StartedAt!.Value)).TotalSeconds;
        }
        var sft = m.Stages.GetValueOrDefault(StageKeys.Sft)?.Seconds ?? new();
        var timings = new Dictionary<string, double>
        {
            ["sft"] = sft.GetValueOrDefault("sft"),
            ["pairs"] = sft.GetValueOrDefault("pairs"),
            ["label"] = Span(PipelineDefinition.Label.Keys(plan)),
            ["train-pm"] = Span(PipelineDefinition.TrainPm.Keys(plan)),
            ["weights"] = Span(PipelineDefinition.Scalarize.Keys(plan)),
        };
        foreach (var arm in RunPlan.Arms)
            timings[$"ppo-{arm}"] = Span(PipelineDefinition.Ppo.Keys(plan).Where(k => k.StartsWith(StageKeys.Ppo(arm) + "/", StringComparison.Ordinal)));
        timings["evaluate"] = evaluateSeconds;
        timings["total"] = (DateTimeOffset.UtcNow - m.CreatedAt).TotalSeconds;
        return timings;
    }
}
