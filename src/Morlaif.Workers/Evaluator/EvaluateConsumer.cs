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
    public Task Consume(ConsumeContext<PolicyTrained> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<EvaluateRun> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId)
    {
        var cancel = context.CancellationToken;
        return gate.RunAsync(context, runId, StageKeys.Evaluate, async manifest =>
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
        });
    }

    /// <summary>The report's timings: the stages' from the manifest, the evaluation's own so far.</summary>
    private static Dictionary<string, double> Timings(RunManifest m, RunPlan plan, double evaluateSeconds)
    {
        var timings = PipelineDefinition.Timings(m, plan, DateTimeOffset.UtcNow);
        timings[StageKeys.Evaluate] = evaluateSeconds;
        return timings;
    }
}
