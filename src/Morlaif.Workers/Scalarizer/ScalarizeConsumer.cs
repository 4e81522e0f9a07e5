using Morlaif.Workers.Pipeline;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;
using Morlaif.Storage;

namespace Morlaif.Workers.Scalarizer;

/// <summary>
/// The fan-in: every PreferenceModelTrained checks the manifest, and only when every question's PM of
/// the run is produced does the objective get fitted, once, whatever the arrival order; then both arms'
/// rewards are announced.
/// </summary>
public sealed class ScalarizeConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<ScalarizeConsumer> log) :
    IConsumer<PreferenceModelTrained>, IConsumer<Scalarize>
{
    public async Task Consume(ConsumeContext<PreferenceModelTrained> context)
    {
        var manifest = await artifacts.ManifestAsync(context.Message.RunId, context.CancellationToken);
        // Scalarize reads no PPO chunk, so the run's plan needs no config here.
        var missing = PipelineDefinition.Missing(manifest, new RunPlan(manifest.Questions, []), StageKeys.Scalarize);
        if (missing.Count > 0)
        {
            log.LogInformation("run {RunId}: PM {Question} in, waiting for {Missing}", context.Message.RunId, context.Message.Principle, string.Join(", ", missing));
            return;
        }
        await Run(context, manifest);
    }

    public async Task Consume(ConsumeContext<Scalarize> context) =>
        await Run(context, await artifacts.ManifestAsync(context.Message.RunId, context.CancellationToken));

    private async Task Run(ConsumeContext context, RunManifest read)
    {
        var cancel = context.CancellationToken;
        var runId = read.RunId;
        await gate.RunAsync(context, read, StageKeys.Scalarize, async manifest =>
        {
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            if (ctx.IsText) return await text.ScalarizeAsync(manifest, ctx, cancel);
            var fit = ScalarizationStage.Fit(ctx, await artifacts.PairsAsync(manifest, cancel), await artifacts.PreferenceModelsAsync(manifest, ctx, cancel));
            log.LogInformation("run {RunId}: weights {Weights}", runId, string.Join(", ", fit.Principles.Select((p, i) => $"{p} {fit.Weights[i]:F2}")));
            return new Dictionary<string, ArtifactReference> { [StageOutputs.Objective] = await artifacts.Store.PutAsync(runId, "objective", fit.ToJson(), cancel) };
        }, async outputs =>
        {
            foreach (var arm in RunPlan.Arms)
                await context.Publish(new RewardReady { RunId = runId, Arm = arm, Objective = outputs[StageOutputs.Objective] }, cancel);
        });
    }
}
