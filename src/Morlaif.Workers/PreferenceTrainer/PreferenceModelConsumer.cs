using MassTransit;
using Morlaif.Contracts;
using Morlaif.Workers.Backends;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.PreferenceTrainer;

/// <summary>
/// One message, one principle: trains that principle's PM, checkpointing after every epoch so a
/// redelivered message resumes where the last attempt stopped. Run N instances to train N principles at once.
/// </summary>
public sealed class PreferenceModelConsumer(RunArtifacts artifacts, StageGate gate, StageBackends backends) :
    IConsumer<PrincipleLabelled>, IConsumer<TrainPreferenceModel>
{
    public Task Consume(ConsumeContext<PrincipleLabelled> context) => Run(context, context.Message.RunId, context.Message.Principle);

    public Task Consume(ConsumeContext<TrainPreferenceModel> context) => Run(context, context.Message.RunId, context.Message.Principle);

    private Task Run(ConsumeContext context, string runId, string question) => gate.RunAsync(context, runId, StageKeys.TrainPm(question), async manifest =>
    {
        var ctx = await artifacts.ContextAsync(manifest, context.CancellationToken);
        return new Dictionary<string, ArtifactReference>
        {
            [StageOutputs.Model] = await backends.For(ctx).TrainPmAsync(manifest, ctx, question, context.CancellationToken),
        };
    });
}
