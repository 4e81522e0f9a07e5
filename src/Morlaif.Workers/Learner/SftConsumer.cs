using MassTransit;
using Morlaif.Contracts;
using Morlaif.Workers.Backends;

namespace Morlaif.Workers.Learner;

/// <summary>RunStarted (or a replay): SFT the policy and sample the pairs the judge will label.</summary>
public sealed class SftConsumer(RunArtifacts artifacts, StageGate gate, StageBackends backends) : IConsumer<RunStarted>, IConsumer<TrainSftPolicy>
{
    public Task Consume(ConsumeContext<RunStarted> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<TrainSftPolicy> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId) => gate.RunAsync(context, runId, StageKeys.Sft, async manifest =>
    {
        var ctx = await artifacts.ContextAsync(manifest, context.CancellationToken);
        return await backends.For(ctx).SftAsync(manifest, ctx, context.CancellationToken);
    });
}
