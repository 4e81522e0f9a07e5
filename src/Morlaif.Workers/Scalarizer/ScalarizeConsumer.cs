using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Workers.Backends;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Scalarizer;

/// <summary>
/// The fan-in of the PMs (<see cref="PipelineDefinition.Scalarize"/>): once every question's PM of the run is produced,
/// whatever the arrival order, the principle weights are fitted once and both arms' rewards are announced.
/// </summary>
public sealed class ScalarizeConsumer(RunArtifacts artifacts, StageGate gate, StageBackends backends, ILogger<ScalarizeConsumer> log) :
    IConsumer<PreferenceModelTrained>, IConsumer<Scalarize>
{
    public Task Consume(ConsumeContext<PreferenceModelTrained> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<Scalarize> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId) => gate.RunAsync(context, runId, StageKeys.Scalarize, async manifest =>
    {
        var cancel = context.CancellationToken;
        var ctx = await artifacts.ContextAsync(manifest, cancel);
        var fit = await backends.For(ctx).ScalarizeAsync(manifest, ctx, cancel);
        log.LogInformation("run {RunId}: weights {Weights}", runId, string.Join(", ", fit.Principles.Select((p, i) => $"{p} {fit.Weights[i]:F2}")));
        return new Dictionary<string, ArtifactReference> { [StageOutputs.Objective] = await artifacts.Store.PutAsync(runId, "objective", fit.ToJson(), cancel) };
    });
}
