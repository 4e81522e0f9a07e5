using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Scalarizer;

/// <summary>
/// The fan-in of the PMs (<see cref="PipelineDefinition.Scalarize"/>): once every question's PM of the run is produced,
/// whatever the arrival order, the principle weights are fitted once and both arms' rewards are announced.
/// </summary>
public sealed class ScalarizeConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<ScalarizeConsumer> log) :
    IConsumer<PreferenceModelTrained>, IConsumer<Scalarize>
{
    public Task Consume(ConsumeContext<PreferenceModelTrained> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<Scalarize> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId)
    {
        var cancel = context.CancellationToken;
        return gate.RunAsync(context, runId, StageKeys.Scalarize, async manifest =>
        {
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            if (ctx.IsText) return await text.ScalarizeAsync(manifest, ctx, cancel);
            var fit = ScalarizationStage.Fit(ctx, await artifacts.PairsAsync(manifest, cancel), await artifacts.PreferenceModelsAsync(manifest, ctx, cancel));
            log.LogInformation("run {RunId}: weights {Weights}", runId, string.Join(", ", fit.Principles.Select((p, i) => $"{p} {fit.Weights[i]:F2}")));
            return new Dictionary<string, ArtifactReference> { [StageOutputs.Objective] = await artifacts.Store.PutAsync(runId, "objective", fit.ToJson(), cancel) };
        });
    }
}
