using MassTransit;
using Morlaif.Contracts;

namespace Morlaif.Workers.Learner;

/// <summary>
/// PPO in bounded chunks: RewardReady starts an arm at iteration 0; each RunPpoIteration runs up to
/// ppo.iterationsPerChunk iterations from the previous chunk's checkpoint and stores the new one (what it then
/// announces, the next chunk or PolicyTrained, is <see cref="Pipeline.PipelineDefinition.Ppo"/>'s). Inside a chunk
/// the learner checkpoints after every iteration, so a redelivered chunk resumes from the last completed iteration.
/// </summary>
public sealed class PpoConsumer(RunArtifacts artifacts, StageGate gate, Backends.StageBackends backends) :
    IConsumer<RewardReady>, IConsumer<RunPpoIteration>
{
    public Task Consume(ConsumeContext<RewardReady> context) =>
        Chunk(context, context.Message.RunId, context.Message.Arm, 0);

    public Task Consume(ConsumeContext<RunPpoIteration> context) =>
        Chunk(context, context.Message.RunId, context.Message.Arm, context.Message.Iteration);

    private async Task Chunk(ConsumeContext context, string runId, string arm, int start)
    {
        var cancel = context.CancellationToken;
        var manifest = await artifacts.ManifestAsync(runId, cancel);
        var ctx = await artifacts.ContextAsync(manifest, cancel);
        var end = Math.Min(ctx.Config.Ppo.Iterations, start + ctx.Config.Ppo.IterationsPerChunk);
        await gate.RunAsync(context, manifest, StageKeys.PpoChunk(arm, start),
            async current => await backends.For(ctx).PpoChunkAsync(current, ctx, arm, start, end, cancel));
    }
}
