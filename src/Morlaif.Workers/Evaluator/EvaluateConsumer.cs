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
public sealed class EvaluateConsumer(RunArtifacts artifacts, StageGate gate, ILogger<EvaluateConsumer> log) :
    IConsumer<PolicyTrained>, IConsumer<EvaluateRun>
{
    private static readonly string[] Arms = [ScalarizationStage.MorlaifArm, ScalarizationStage.BaselineArm];

    public async Task Consume(ConsumeContext<PolicyTrained> context)
    {
        var manifest = await artifacts.ManifestAsync(context.Message.RunId, context.CancellationToken);
        var ctx = await artifacts.ContextAsync(manifest, context.CancellationToken);
        if (Arms.Any(arm => manifest.Stages.GetValueOrDefault(StageKeys.FinalPpoChunk(ctx.Config.Ppo, arm))?.Produced != true))
        {
            log.LogInformation("run {RunId}: policy {Arm} in, waiting for the other arm", context.Message.RunId, context.Message.Arm);
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
            var clock = Stopwatch.StartNew();
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var policies = new Dictionary<string, Learning.Models.PolicyModel>();
            var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
            foreach (var arm in Arms)
            {
                var outputs = manifest.Stages[StageKeys.FinalPpoChunk(ctx.Config.Ppo, arm)].Outputs;
                var policy = ctx.NewPolicy();
                PpoLearner.LoadPolicy(await artifacts.BytesAsync(outputs["checkpoint"], cancel), policy);
                policy.to(ctx.Device);
                policies[arm] = policy;
                ppo[arm] = PpoStage.StatsFromJson(await artifacts.BytesAsync(outputs["stats"], cancel));
            }
            var evaluation = EvaluationStage.Evaluate(ctx, sft, policies[Arms[0]], policies[Arms[1]]);
            var evaluateSeconds = clock.Elapsed.TotalSeconds;

            var pairs = await artifacts.PairsAsync(manifest, cancel);
            var disagreed = new Dictionary<string, double>();
            foreach (var q in ctx.Questions) disagreed[q] = (await artifacts.LabelsAsync(manifest, q, cancel)).OrdersDisagreed;
            var pmStats = new Dictionary<string, Learning.Runs.PreferenceModelStats>();
            foreach (var q in ctx.Questions)
                pmStats[q] = TrainedPreferenceModel.StatsFromBytes(await artifacts.BytesAsync(RunArtifacts.Output(manifest, StageKeys.TrainPm(q), "model"), cancel));
            var report = RunReport.Assemble(runId, ctx, (int)sft.parameters().Sum(p => p.numel()), pairs, disagreed,
                pmStats, await artifacts.ObjectiveAsync(manifest, cancel), ppo, evaluation,
                Timings(manifest, evaluateSeconds));
            log.LogInformation("run {RunId}: MORLAIF vs baseline win {Win:P1} tie {Tie:P1} loss {Loss:P1}", runId,
                evaluation.VsBaseline.Win, evaluation.VsBaseline.Tie, evaluation.VsBaseline.Loss);
            return new Dictionary<string, ArtifactReference>
            {
                ["report"] = await artifacts.Store.PutAsync(runId, "report-json", Encoding.UTF8.GetBytes(ReportFiles.ToJson(report)), cancel),
                ["report-md"] = await artifacts.Store.PutAsync(runId, "report-md", Encoding.UTF8.GetBytes(ReportFiles.ToMarkdown(report)), cancel),
            };
        }, outputs => context.Publish(new RunEvaluated { RunId = runId, Report = outputs["report"], ReportMarkdown = outputs["report-md"] }, cancel),
        whenDone: m => m.State = RunState.Completed);
    }

    /// <summary>The report's timings from the manifest: each stage's wall time from its first start to its last completion.</summary>
    private static Dictionary<string, double> Timings(RunManifest m, double evaluateSeconds)
    {
        double Span(Func<string, bool> keys)
        {
            var stages = m.Stages.Where(kv => keys(kv.Key) && kv.Value.StartedAt is not null && kv.Value.CompletedAt is not null).Select(kv => kv.Value).ToList();
            return stages.Count == 0 ? 0 : (stages.Max(s => s.CompletedAt!.Value) - stages.Min(s => s.StartedAt!.Value)).TotalSeconds;
        }
        var sft = m.Stages.GetValueOrDefault(StageKeys.Sft)?.Seconds ?? new();
        return new Dictionary<string, double>
        {
            ["sft"] = sft.GetValueOrDefault("sft"),
            ["pairs"] = sft.GetValueOrDefault("pairs"),
            ["label"] = Span(k => k.StartsWith("label/", StringComparison.Ordinal)),
            ["train-pm"] = Span(k => k.StartsWith("train-pm/", StringComparison.Ordinal)),
            ["weights"] = Span(k => k == StageKeys.Scalarize),
            ["ppo-morlaif"] = Span(k => k.StartsWith(StageKeys.Ppo(ScalarizationStage.MorlaifArm) + "/", StringComparison.Ordinal)),
            ["ppo-baseline"] = Span(k => k.StartsWith(StageKeys.Ppo(ScalarizationStage.BaselineArm) + "/", StringComparison.Ordinal)),
            ["evaluate"] = evaluateSeconds,
            ["total"] = (DateTimeOffset.UtcNow - m.CreatedAt).TotalSeconds,
        };
    }
}
