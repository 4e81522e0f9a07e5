using Morlaif.Workers.Pipeline;
using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Stages;

namespace Morlaif.Workers.Labeller;

/// <summary>The pairs exist (or a replay): the judge labels them once per question, and each question's labels are announced.</summary>
public sealed class LabelConsumer(RunArtifacts artifacts, StageGate gate, Text.TextStages text, ILogger<LabelConsumer> log) :
    IConsumer<SftPolicyTrained>, IConsumer<LabelPairs>
{
    public Task Consume(ConsumeContext<SftPolicyTrained> context) => Run(context, context.Message.RunId, null);

    public Task Consume(ConsumeContext<LabelPairs> context) => Run(context, context.Message.RunId, context.Message.Principle);

    private async Task Run(ConsumeContext context, string runId, string? only)
    {
        var cancel = context.CancellationToken;
        var manifest = await artifacts.ManifestAsync(runId, cancel);
        var ctx = await artifacts.ContextAsync(manifest, cancel);
        if (only is not null && !manifest.Questions.Contains(only))
            throw new ArgumentException($"run {runId} has no principle '{only}' (its questions: {string.Join(", ", manifest.Questions)})");
        foreach (var question in only is null ? manifest.Questions : [only])
        {
            var result = await gate.RunAsync(context, manifest, StageKeys.Label(question), async current =>
            {
                LabelSet labels;
                if (ctx.IsText) labels = await text.LabelAsync(current, ctx, question, cancel);
                else
                {
                    var pairs = await artifacts.PairsAsync(current, cancel);
                    labels = ctx.Config.Judge.Kind == "openai"
                        ? await ChatJudgeLabelling.LabelAsync(ctx.Config, pairs.Train, pairs.Test, question, new ArtifactJudgeCache(artifacts.Store), cancel)
                        : LabellingStage.Label(ctx, pairs, question);
                }
                log.LogInformation("run {RunId}: labelled {Question} ({Judge} judge), orders disagreed on {Share:P1}, {Abstentions} abstentions",
                    runId, question, ctx.Config.Judge.Kind, labels.OrdersDisagreed, labels.Abstentions);
                return new Dictionary<string, ArtifactReference> { [StageOutputs.Labels] = await artifacts.Store.PutAsync(runId, $"labels-{question}", labels.ToJson(), cancel) };
            });
            // The pairs are being computed again: their event brings every question back.
            if (result == GateResult.WaitingForInput) break;
        }
    }
}
