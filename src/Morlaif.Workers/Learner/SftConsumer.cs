using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Learner;

/// <summary>RunStarted (or a replay): SFT the policy and sample the pairs the judge will label.</summary>
public sealed class SftConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<SftConsumer> log) :
    IConsumer<RunStarted>, IConsumer<TrainSftPolicy>
{
    public Task Consume(ConsumeContext<RunStarted> context) => Run(context, context.Message.RunId);

    public Task Consume(ConsumeContext<TrainSftPolicy> context) => Run(context, context.Message.RunId);

    private Task Run(ConsumeContext context, string runId)
    {
        var cancel = context.CancellationToken;
        return gate.RunAsync(context, runId, StageKeys.Sft, async manifest =>
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
            var outputs = new Dictionary<string, ArtifactReference>
            {
                [StageOutputs.Policy] = await artifacts.Store.PutAsync(runId, "sft-policy", policy.ToBytes(), cancel),
                [StageOutputs.Pairs] = await artifacts.Store.PutAsync(runId, "pairs", pairs.ToJson(), cancel),
            };
            return new StageOutput(outputs, new() { [SftParts.Train] = sftSeconds, [SftParts.Pairs] = clock.Elapsed.TotalSeconds });
        });
    }
}

/// <summary>The SFT record's timed parts (the report's "sft/train" and "sft/pairs").</summary>
public static class SftParts
{
    public const string Train = "train", Pairs = "pairs";
}
