using Morlaif.Workers.Pipeline;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Stages;

namespace Morlaif.Workers.Learner;

/// <summary>RunStarted (or a replay): SFT the policy and sample the pairs the judge will label.</summary>
public sealed class SftConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<SftConsumer> log) :
    IConsumer<RunStarted>, IConsumer<TrainSftPolicy>
{
    public Task Consume(ConsumeContext<RunStarted> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<TrainSftPolicy> context) => Run(context, context.Message.RunId);

    private async Task Run(ConsumeContext context, string runId)
    {
        var cancel = context.CancellationToken;
        await gate.RunAsync(context, runId, StageKeys.Sft, async manifest =>
        {
            var ctx = await artifacts.ContextAsync(manifest, cancel);
            if (ctx.IsText) return await text.SftAsync(manifest, ctx, cancel);
            var clock = Stopwatch.StartNew();
            var (policy, loss, demos) = SftStage.Train(ctx);
            using var trained = policy; // stored below; the worker keeps no copy
            var sftSeconds = clock.Elapsed.TotalSeconds;
            log.LogInformation("run {RunId}: SFT on {Demos} demonstrations, final loss {Loss:F3}", runId, demos, loss);
            clock.Restart();
            var pairs = PairSamplingStage.Sample(ctx, policy);
            var artifactsOut = new Dictionary<string, ArtifactReference>
            {
                [StageOutputs.Policy] = await artifacts.Store.PutAsync(runId, "sft-policy", policy.ToBytes(), cancel),
                [StageOutputs.Pairs] = await artifacts.Store.PutAsync(runId, "pairs", pairs.ToJson(), cancel),
            };
            return new StageOutput(artifactsOut, new() { ["sft"] = sftSeconds, ["pairs"] = clock.Elapsed.TotalSeconds });
        }, outputs => context.Publish(new SftPolicyTrained { RunId = runId, Policy = outputs[StageOutputs.Policy], Pairs = outputs[StageOutputs.Pairs] }, cancel));
    }
}
