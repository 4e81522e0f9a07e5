using Morlaif.Storage;

namespace Morlaif.Workers.Pipeline;

/// <summary>
/// One stage of the pipeline, as <see cref="PipelineDefinition"/> declares it: what `morlaif replay --stage`
/// and the report call it, the queue that serves it, the command that asks for it (replay, supervisor), the
/// messages that run it, the event it announces, what it writes, and its records' keys in a run's manifest.
/// A stage may have several records in one run (one per question, one per PPO chunk).
/// </summary>
public sealed record PipelineStage
{
    /// <summary>"train-pm": the first segment of its manifest keys, replay's --stage, the report's timings.</summary>
    public required string Name { get; init; }

    /// <summary>The queue its consumer reads; its command is sent there.</summary>
    public required string Queue { get; init; }

    /// <summary>The command that asks for one record of the stage again (replay, the supervisor).</summary>
    public required Type Command { get; init; }

    /// <summary>Every message whose consumer runs this stage (its command included); a Fault of one marks the stage.</summary>
    public required Type[] Triggers { get; init; }

    /// <summary>What it announces once its outputs are recorded.</summary>
    public required Type Event { get; init; }

    /// <summary>The names of its outputs in its manifest record.</summary>
    public required string[] Outputs { get; init; }

    /// <summary>Long stages checkpoint inside (PM epochs, PPO iterations) and resume from there.</summary>
    public bool Long { get; init; }

    /// <summary>A fan-in waits for several records to be produced before it runs (its inputs).</summary>
    public bool FanIn { get; init; }

    /// <summary>One record per question (principle or baseline): replay's --principle picks one.</summary>
    public bool PerQuestion { get; init; }

    /// <summary>The stage's record keys in a run, in order.</summary>
    public required Func<RunPlan, IEnumerable<string>> Keys { get; init; }

    /// <summary>The records whose outputs one record of this stage reads: it can run once they are produced.</summary>
    public required Func<RunPlan, string, IEnumerable<string>> Inputs { get; init; }

    /// <summary>The command for one record (its key), as replay and the supervisor send it.</summary>
    public required Func<string, string, object> CommandFor { get; init; }

    /// <summary>The record a trigger message is about; null when it runs several (the labeller's SftPolicyTrained).</summary>
    public required Func<object, string?> KeyOf { get; init; }

    /// <summary>
    /// The records `morlaif replay` asks for again, given the manifest; all of them unless the stage says
    /// otherwise (PPO: each arm's first unfinished chunk, since each chunk sends the next).
    /// </summary>
    public Func<RunManifest, RunPlan, IEnumerable<string>>? ReplayKeys { get; init; }

    public bool Owns(string key) => key == Name || key.StartsWith(Name + "/", StringComparison.Ordinal);
}

/// <summary>
/// The shape of one run that the stage keys depend on: its questions (principles and the baseline's) and
/// the first iteration of each PPO chunk.
/// </summary>
public sealed record RunPlan(IReadOnlyList<string> Questions, IReadOnlyList<int> ChunkStarts)
{
    public static readonly string[] Arms = [Learning.Stages.ScalarizationStage.MorlaifArm, Learning.Stages.ScalarizationStage.BaselineArm];

    public static RunPlan Of(RunManifest manifest, Learning.Ppo.PpoSettings ppo) => new(manifest.Questions, StageKeys.PpoChunkStarts(ppo).ToList());

    /// <summary>Every record of the run, stage by stage in pipeline order.</summary>
    public IEnumerable<(PipelineStage Stage, string Key)> Records =>
        PipelineDefinition.Stages.SelectMany(s => s.Keys(this).Select(k => (s, k)));
}
