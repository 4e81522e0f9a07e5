using MassTransit;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// A stage message that still failed after its retries marks the run Faulted, with the stage and the
/// reason, so `morlaif status` can say what went wrong and `morlaif replay` can pick it up.
/// </summary>
public sealed class RunFaultConsumer(RunFaults faults, ILogger<RunFaultConsumer> log) :
    IConsumer<Fault<RunStarted>>, IConsumer<Fault<TrainSftPolicy>>, IConsumer<Fault<SftPolicyTrained>>, IConsumer<Fault<LabelPairs>>,
    IConsumer<Fault<PrincipleLabelled>>, IConsumer<Fault<TrainPreferenceModel>>, IConsumer<Fault<PreferenceModelTrained>>,
    IConsumer<Fault<Scalarize>>, IConsumer<Fault<RewardReady>>, IConsumer<Fault<RunPpoIteration>>, IConsumer<Fault<PolicyTrained>>,
    IConsumer<Fault<EvaluateRun>>
{
    public Task Consume(ConsumeContext<Fault<RunStarted>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Sft);
    public Task Consume(ConsumeContext<Fault<TrainSftPolicy>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Sft);
    public Task Consume(ConsumeContext<Fault<SftPolicyTrained>> c) => Mark(c, c.Message.Message.RunId, "label");
    public Task Consume(ConsumeContext<Fault<LabelPairs>> c) => Mark(c, c.Message.Message.RunId, "label");
    public Task Consume(ConsumeContext<Fault<PrincipleLabelled>> c) => Mark(c, c.Message.Message.RunId, StageKeys.TrainPm(c.Message.Message.Principle));
    public Task Consume(ConsumeContext<Fault<TrainPreferenceModel>> c) => Mark(c, c.Message.Message.RunId, StageKeys.TrainPm(c.Message.Message.Principle));
    public Task Consume(ConsumeContext<Fault<PreferenceModelTrained>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Scalarize);
    public Task Consume(ConsumeContext<Fault<Scalarize>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Scalarize);
    public Task Consume(ConsumeContext<Fault<RewardReady>> c) => Mark(c, c.Message.Message.RunId, StageKeys.PpoChunk(c.Message.Message.Arm, 0));
    public Task Consume(ConsumeContext<Fault<RunPpoIteration>> c) => Mark(c, c.Message.Message.RunId, StageKeys.PpoChunk(c.Message.Message.Arm, c.Message.Message.Iteration));
    public Task Consume(ConsumeContext<Fault<PolicyTrained>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Evaluate);
    public Task Consume(ConsumeContext<Fault<EvaluateRun>> c) => Mark(c, c.Message.Message.RunId, StageKeys.Evaluate);

    private async Task Mark<T>(ConsumeContext<Fault<T>> context, string runId, string stage)
    {
        var reason = context.Message.Exceptions.FirstOrDefault() is { } e ? $"{e.ExceptionType}: {e.Message}" : "unknown error";
        log.LogError("run {RunId}: stage {Stage} failed for good: {Reason}", runId, stage, reason);
        await faults.MarkAsync(runId, stage, stage, reason, context.CancellationToken);
    }
}
