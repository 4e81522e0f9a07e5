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
/// message is held for longer than one chunk, whatever the total budget. Inside a chunk the learner
/// checkpoints after every iteration, so a redelivered chunk resumes from the last completed iteration.
/// </summary>
public sealed class PpoConsumer(RunArtifacts artifacts, StageGate gate, StageCheckpoints checkpoints, ILogger<PpoConsumer> log) :
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
        var stage = StageKeys.PpoChunk(arm, start);
        await gate.RunAsync(context, runId, stage, async current =>
        {
            var sft = await artifacts.SftPolicyAsync(current, ctx, cancel);
            var pms = await artifacts.PreferenceModelsAsync(current, ctx, cancel);
            var fit = arm == ScalarizationStage.MorlaifArm ? await artifacts.ObjectiveAsync(current, cancel) : null;
            var reward = ScalarizationStage.Reward(arm, ctx, fit, pms);
            var inputs = new List<ArtifactReference> { current.Config, RunArtifacts.Output(current, StageKeys.Sft, "policy") };
            inputs.AddRange(ctx.Questions.Select(q => RunArtifacts.Output(current, StageKeys.TrainPm(q), "model")));
            if (fit is not null) inputs.Add(RunArtifacts.Output(current, StageKeys.Scalarize, "objective"));

            List<PpoIterationStats> stats = [];
            PpoLearner learner;
            if (start == 0) learner = PpoStage.Learner(ctx, sft, reward);
            else
            {
                var previous = StageKeys.PpoChunk(arm, start - ctx.Config.Ppo.IterationsPerChunk);
                var previousCheckpoint = RunArtifacts.Output(current, previous, "checkpoint");
                inputs.Add(previousCheckpoint);
                using var checkpoint = new MemoryStream(await artifacts.BytesAsync(previousCheckpoint, cancel));
                learner = PpoStage.Learner(ctx, sft, reward, checkpoint);
                stats = PpoStage.StatsFromJson(await artifacts.BytesAsync(RunArtifacts.Output(current, previous, "stats"), cancel));
            }
            var fingerprint = StageCheckpoints.Fingerprint(inputs);
            using (learner)
            {
                if (await checkpoints.ResumeAsync(current, stage, fingerprint, cancel) is { } resume)
                {
                    // The checkpoint carries the learner and the stats of the iterations it has done.
                    using var state = new MemoryStream(resume.State, writable: false);
                    using var r = new BinaryReader(state);
                    stats = PpoStage.StatsFromJson(r.ReadBytes(r.ReadInt32()));
                    learner.LoadCheckpoint(state);
                }
                while (learner.Iteration < end)
                {
                    stats.Add(PpoStage.Iterate(ctx, learner));
                    log.LogInformation("run {RunId}: PPO {Arm} {Iteration}/{Total}, score {Score:F3}, KL {Kl:F3}",
                        runId, arm, learner.Iteration, total, stats[^1].MeanScore, stats[^1].MeanKl);
                    if (learner.Iteration < end)
                        await checkpoints.SaveAsync(runId, stage, fingerprint, learner.Iteration, ResumeState(learner, stats), cancel);
                }
                using var ms = new MemoryStream();
                learner.SaveCheckpoint(ms);
                var outputs = new Dictionary<string, ArtifactReference>
                {
                    ["checkpoint"] = await artifacts.Store.PutAsync(runId, $"ppo-{arm}", ms.ToArray(), cancel),
                    ["stats"] = await artifacts.Store.PutAsync(runId, $"ppo-stats-{arm}", PpoStage.StatsToJson(stats), cancel),
                };
                await checkpoints.ClearAsync(runId, stage, cancel);
                return outputs;
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

    private static byte[] ResumeState(PpoLearner learner, List<PpoIterationStats> stats)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var json = PpoStage.StatsToJson(stats);
            w.Write(json.Length);
            w.Write(json);
        }
        learner.SaveCheckpoint(ms);
        return ms.ToArray();
    }
}
