using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Workers.Backends;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Labeller;

/// <summary>The pairs exist (or a replay): the judge labels them once per question, and each question's labels are announced.</summary>
public sealed class LabelConsumer(RunArtifacts artifacts, StageGate gate, StageBackends backends, ILogger<LabelConsumer> log) :
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
                var labels = await backends.For(ctx).LabelAsync(current, ctx, question, cancel);
                log.LogInformation("run {RunId}: labelled {Question} ({Judge} judge), orders disagreed on {Share:P1}, {Abstentions} abstentions",
                    runId, question, ctx.Config.Judge.Kind, labels.OrdersDisagreed, labels.Abstentions);
                return new Dictionary<string, ArtifactReference> { [StageOutputs.Labels] = await artifacts.Store.PutAsync(runId, $"labels-{question}", labels.ToJson(), cancel) };
            });
            // The pairs are being computed again: their event brings every question back.
            if (result == GateResult.WaitingForInput) break;
        }
    }
}
