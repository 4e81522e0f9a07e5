using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;

namespace Morlaif.Workers.Learner;

/// <summary>
/// PPO in bounded chunks: RewardReady starts an arm at iteration 0; each RunPpoIteration runs up to
/// ppo.iterationsPerChunk iterations from the previous chunk's checkpoint, stores the new checkpoint,
/// and sends the next chunk to this same queue, or publishes PolicyTrained after the last one. No
/// message is held for longer than one chunk, whatever the total budget.
/// </summary>
public sealed class PpoConsumer(RunArtifacts artifacts, StageGate gate, ILogger<PpoConsumer> log) :
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
        var total = ctx.Config.Ppo.Iterations;
        var end = Math.Min(total, start + ctx.Config.Ppo.IterationsPerChunk);
        await gate.RunAsync(context, runId, StageKeys.PpoChunk(arm, start), async () =>
        {
            var sft = await artifacts.SftPolicyAsync(manifest, ctx, cancel);
            var pms = await artifacts.PreferenceModelsAsync(manifest, ctx, cancel);
            var fit = arm == ScalarizationStage.MorlaifArm ? await artifacts.ObjectiveAsync(manifest, cancel) : null;
            var reward = ScalarizationStage.Reward(arm, ctx, fit, pms);
            var stats = new List<PpoIterationStats>();
            PpoLearner learner;
            if (start == 0) learner = PpoStage.Learner(ctx, sft, reward);
            else
            {
                var previous = manifest.Stages[StageKeys.PpoChunk(arm, PreviousChunk(ctx, start))].Outputs;
                using var checkpoint = new MemoryStream(await artifacts.BytesAsync(previous["checkpoint"], cancel));
                learner = PpoStage.Learner(ctx, sft, reward, checkpoint);
                stats.AddRange(System.Text.Json.JsonSerializer.Deserialize<List<PpoIterationStats>>(
                    await artifacts.BytesAsync(previous["stats"], cancel), Learning.Runs.RunConfig.Json)!);
            }
            using (learner)
            {
                while (learner.Iteration < end) stats.Add(PpoStage.Iterate(ctx, learner));
                log.LogInformation("run {RunId}: PPO {Arm} {Iteration}/{Total}, score {Score:F3}, KL {Kl:F3}",
                    runId, arm, learner.Iteration, total, stats[^1].MeanScore, stats[^1].MeanKl);
                using var ms = new MemoryStream();
                learner.SaveCheckpoint(ms);
                return new Dictionary<string, ArtifactReference>
                {
                    ["checkpoint"] = await artifacts.Store.PutAsync(runId, $"ppo-{arm}", ms.ToArray(), cancel),
                    ["stats"] = await artifacts.Store.PutAsync(runId, $"ppo-stats-{arm}",
                        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(stats, Learning.Runs.RunConfig.Json), cancel),
                };
            }
        }, async outputs =>
        {
            if (end < total)
            {
                var endpoint = await context.GetSendEndpoint(context.ReceiveContext.InputAddress!);
                await endpoint.Send(new RunPpoIteration { RunId = runId, Arm = arm, Iteration = end }, cancel);
            }
            else
                await context.Publish(new PolicyTrained { RunId = runId, Arm = arm, Checkpoint = outputs["checkpoint"] }, cancel);
        });
    }

    private static int PreviousChunk(RunContext ctx, int start) => Math.Max(0, start - ctx.Config.Ppo.IterationsPerChunk);
}
