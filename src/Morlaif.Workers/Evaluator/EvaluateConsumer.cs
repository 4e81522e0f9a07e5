using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Storage;
using Morlaif.Workers.Backends;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Evaluator;

/// <summary>
/// The fan-in of both arms' policies (<see cref="PipelineDefinition.Evaluate"/>): MORLAIF against the baseline on
/// held-out prompts, then report.json and report.md (the same report as the in-process run) are stored; the
/// pipeline's definition marks the run Completed with them.
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
        var plan = RunPlan.Of(manifest, ctx.Config.Ppo);
        var report = await backends.For(ctx).EvaluateAsync(manifest, ctx, seconds => Timings(manifest, plan, seconds), cancel);
        log.LogInformation("run {RunId}: {Summary}", runId, report.Summary);
        return new Dictionary<string, ArtifactReference>
        {
            [StageOutputs.Report] = await artifacts.Store.PutAsync(runId, "report-json", report.Json, cancel),
            [StageOutputs.ReportMarkdown] = await artifacts.Store.PutAsync(runId, "report-md", report.Markdown, cancel),
        };
    });

    /// <summary>The report's timings: the stages' from the manifest, the evaluation's own so far.</summary>
    private static Dictionary<string, double> Timings(RunManifest m, RunPlan plan, double evaluateSeconds)
    {
        var timings = PipelineDefinition.Timings(m, plan, DateTimeOffset.UtcNow);
        timings[StageKeys.Evaluate] = evaluateSeconds;
        return timings;
    }
}
