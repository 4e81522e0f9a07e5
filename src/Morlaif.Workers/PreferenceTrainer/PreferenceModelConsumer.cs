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
            if (ctx.IsText) return await text.TrainPmAsync(manifest, ctx, question, cancel);
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var pairs = await artifacts.PairsAsync(manifest, cancel);
            var labels = await artifacts.LabelsAsync(manifest, question, cancel);
            var inputs = StageCheckpoints.Fingerprint(manifest.Config, RunArtifacts.Output(manifest, StageKeys.Sft, StageOutputs.Policy),
                RunArtifacts.Output(manifest, StageKeys.Sft, StageOutputs.Pairs), RunArtifacts.Output(manifest, StageKeys.Label(question), StageOutputs.Labels));

            using var trainer = await checkpoints.ResumeAsync(manifest, stage, inputs,
                state => PreferenceModelStage.Start(ctx, sft, pairs, labels, state),
                () => Task.FromResult(PreferenceModelStage.Start(ctx, sft, pairs, labels)), cancel);
            while (!trainer.Done)
            {
                var loss = trainer.RunEpoch();
                log.LogInformation("run {RunId}: PM {Question} epoch {Epoch}/{Epochs}, loss {Loss:F4}", runId, question, trainer.Epoch, ctx.Config.PreferenceModel.Epochs, loss);
                if (trainer.Done) break; // the finished model is the stage's output, not a checkpoint
                await checkpoints.SaveAsync(runId, stage, inputs, trainer.Epoch, trainer.SaveCheckpoint(), cancel);
            }
            var pm = PreferenceModelStage.Finish(trainer, pairs, labels);
            using var model = pm.Model; // stored below; the worker keeps no copy
            log.LogInformation("run {RunId}: PM {Question} held-out accuracy {Accuracy:F3}", runId, question, pm.Stats.HeldOutAccuracy);
            return new Dictionary<string, ArtifactReference> { [StageOutputs.Model] = await artifacts.Store.PutAsync(runId, $"pm-{question}", pm.ToBytes(), cancel) };
        });
    }
}
