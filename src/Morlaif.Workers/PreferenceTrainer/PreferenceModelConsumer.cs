using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;

namespace Morlaif.Workers.PreferenceTrainer;

/// <summary>One message, one principle: trains that principle's PM. Run N instances to train N principles at once.</summary>
public sealed class PreferenceModelConsumer(RunArtifacts artifacts, StageGate gate, ILogger<PreferenceModelConsumer> log) :
    IConsumer<PrincipleLabelled>, IConsumer<TrainPreferenceModel>
{
    public Task Consume(ConsumeContext<PrincipleLabelled> context) => Run(context, context.Message.RunId, context.Message.Principle);

    public Task Consume(ConsumeContext<TrainPreferenceModel> context) => Run(context, context.Message.RunId, context.Message.Principle);

    private async Task Run(ConsumeContext context, string runId, string question)
    {
        var cancel = context.CancellationToken;
        await gate.RunAsync(context, runId, StageKeys.TrainPm(question), async () =>
        {
            var manifest = await artifacts.ManifestAsync(runId, cancel);
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var pm = PreferenceModelStage.Train(ctx, sft, await artifacts.PairsAsync(manifest, cancel), await artifacts.LabelsAsync(manifest, question, cancel));
            log.LogInformation("run {RunId}: PM {Question} held-out accuracy {Accuracy:F3}", runId, question, pm.Stats.HeldOutAccuracy);
            return new Dictionary<string, ArtifactReference> { ["model"] = await artifacts.Store.PutAsync(runId, $"pm-{question}", pm.ToBytes(), cancel) };
        }, outputs => context.Publish(new PreferenceModelTrained { RunId = runId, Principle = question, Model = outputs["model"] }, cancel));
    }
}
