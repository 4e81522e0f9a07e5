using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers.Backends;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Evaluator;

/// <summary>
/// The fan-in of every arm's policy (<see cref="PipelineDefinition.Evaluate"/>): MORLAIF against the baseline on
/// held-out prompts, then report.json, report.md and its charts, one report from every stage's stored outputs whatever the model
/// family; the pipeline's definition marks the run Completed with them.
/// </summary>
public sealed class EvaluateConsumer(RunArtifacts artifacts, StageGate gate, StageBackends backends, ILogger<EvaluateConsumer> log) :
    IConsumer<PolicyTrained>, IConsumer<EvaluateRun>
{
    public Task Consume(ConsumeContext<PolicyTrained> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<EvaluateRun> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId) => gate.RunAsync(context, runId, StageKeys.Evaluate, async manifest =>
    {
        var cancel = context.CancellationToken;
        var ctx = await artifacts.ContextAsync(manifest, cancel);
        var backend = backends.For(ctx);
        var clock = Stopwatch.StartNew();
        var evaluated = await backend.EvaluateAsync(manifest, ctx, cancel);
        var plan = RunPlan.Of(manifest, ctx.Config);
        var timings = PipelineDefinition.Timings(manifest, plan, DateTimeOffset.UtcNow);
        timings[StageKeys.Evaluate] = clock.Elapsed.TotalSeconds;
        var report = await AssembleAsync(manifest, ctx, plan, backend, evaluated, timings, cancel);
        log.LogInformation("run {RunId}: {Summary}", runId, ReportFiles.Headline(report));
        var charts = ReportCharts.Render(report);
        var outputs = new Dictionary<string, ArtifactReference>
        {
            [StageOutputs.Report] = await artifacts.Store.PutAsync(runId, "report-json", Encoding.UTF8.GetBytes(ReportFiles.ToJson(report)), cancel),
            [StageOutputs.ReportMarkdown] = await artifacts.Store.PutAsync(runId, "report-md",
                Encoding.UTF8.GetBytes(ReportFiles.ToMarkdown(report, [.. charts.Select(c => c.File)])), cancel),
        };
        // Every policy's answers by the truth, answer by answer: what an experiment compares its arms on.
        if (evaluated.Truths is { } truths)
            outputs[StageOutputs.Truths] = await artifacts.Store.PutAsync(runId, "policy-truths", JsonSerializer.SerializeToUtf8Bytes(truths, RunConfig.Json), cancel);
        // Beyond the declared outputs: the charts report.md links, kept in the store like the report itself.
        foreach (var chart in charts) outputs[chart.OutputKey] = await artifacts.Store.PutAsync(runId, chart.OutputKey, chart.Png, cancel);
        return outputs;
    });

    /// <summary>The report: each arm's PPO statistics, each question's labels and PM, the objective fit, and the evaluation.</summary>
    private async Task<RunReport> AssembleAsync(RunManifest m, RunContext ctx, RunPlan plan, IStageBackend backend, Evaluated evaluated,
        Dictionary<string, double> timings, CancellationToken cancel)
    {
        var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
        foreach (var arm in ctx.Config.PolicyArms)
            ppo[arm.Name] = PpoStage.StatsFromJson(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.FinalPpoChunk(ctx.Config, arm.Name), StageOutputs.Stats), cancel));
        var labels = new Dictionary<string, LabelSet>();
        foreach (var q in ctx.Questions) labels[q] = await artifacts.LabelsAsync(m, q, cancel);
        var pms = new Dictionary<string, PreferenceModelStats>();
        foreach (var q in plan.PmQuestions) pms[q] = await backend.PmStatsAsync(m, q, cancel);
        var any = labels.Values.First();
        // A chat judge can abstain; the world's judge always answers.
        var abstentions = ctx.Config.Judge.Kind == "openai" ? labels.ToDictionary(kv => kv.Key, kv => kv.Value.Abstentions) : null;
        var judge = new JudgeStats(any.Train.Count, any.Test.Count, labels.ToDictionary(kv => kv.Key, kv => kv.Value.OrdersDisagreed), abstentions, evaluated.IdenticalPairs);
        return RunReport.Assemble(m.RunId, ctx.Config, ctx.Device.ToString(), judge, pms, await artifacts.ObjectiveAsync(m, cancel), ppo, evaluated.Result, timings)
            with { World = evaluated.World, Model = evaluated.Model };
    }
}
