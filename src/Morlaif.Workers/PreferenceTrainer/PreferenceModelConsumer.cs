using Morlaif.Workers.Pipeline;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;

namespace Morlaif.Workers.PreferenceTrainer;

/// <summary>
/// One message, one principle: trains that principle's PM, checkpointing after every epoch so a
/// redelivered message resumes where the last attempt stopped. Run N instances to train N principles at once.
/// </summary>
public sealed class PreferenceModelConsumer(RunArtifacts artifacts, StageGate gate, StageCheckpoints checkpoints, Text.TextStages text, ILogger<PreferenceModelConsumer> log) :
    IConsumer<PrincipleLabelled>, IConsumer<TrainPreferenceModel>
{
    public Task Consume(ConsumeContext<PrincipleLabelled> context) => Run(context, context.Message.RunId, context.Message.Principle);

    public Task Consume(ConsumeContext<TrainPreferenceModel> context) => Run(context, context.Message.RunId, context.Message.Principle);

    private async Task Run(ConsumeContext context, string runId, string question)
    {
        var cancel = context.CancellationToken;
        var stage = StageKeys.TrainPm(question);
        await gate.RunAsync(context, runId, stage, async manifest =>
        {
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            if (ctx.IsText) return await text.TrainPmAsync(manifest, ctx, question, checkpoints, cancel);
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var pairs = await artifacts.PairsAsync(manifest, cancel);
            var labels = await artifacts.LabelsAsync(manifest, question, cancel);
            using var trainer = await PmEpochs.TrainAsync(checkpoints, manifest, stage, PmEpochs.Inputs(manifest, question),
                checkpoint => PreferenceModelStage.Start(ctx, sft, pairs, labels, checkpoint), log, cancel);
            var pm = PreferenceModelStage.Finish(trainer, pairs, labels);
            using var model = pm.Model; // stored below; the worker keeps no copy
            log.LogInformation("run {RunId}: PM {Question} held-out accuracy {Accuracy:F3}", runId, question, pm.Stats.HeldOutAccuracy);
            return new Dictionary<string, ArtifactReference> { [StageOutputs.Model] = await artifacts.Store.PutAsync(runId, $"pm-{question}", pm.ToBytes(), cancel) };
        });
    }
}
