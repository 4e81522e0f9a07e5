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

    /// <summary>The queue its consumer reads ("morlaif-train-pm"); its command is sent there.</summary>
    public string Queue => $"morlaif-{Name}";

    /// <summary>The worker (service) whose hosts consume its queue.</summary>
    public required string Worker { get; init; }

    /// <summary>The consumer of its triggers: it reads the record's inputs, calls the learning core and returns the outputs.</summary>
    public required Type Consumer { get; init; }

    /// <summary>The command that asks for one record of the stage again (replay, the supervisor).</summary>
    public required Type Command { get; init; }

    /// <summary>Every message whose consumer runs this stage (its command included); a Fault of one marks the stage.</summary>
    public required Type[] Triggers { get; init; }

    /// <summary>What it announces once its outputs are recorded.</summary>
    public required Type Event { get; init; }

    /// <summary>The names of its outputs in its manifest record.</summary>
    public required string[] Outputs { get; init; }

    /// <summary>Long stages checkpoint inside (PM epochs, PPO iterations) and resume from there; no other stage may (<see cref="StageCheckpoints"/>).</summary>
    public bool Long { get; init; }

    /// <summary>
    /// A fan-in waits for several records to be produced before it runs (its inputs): each of its events that arrives
    /// before the last input is produced is counted and dropped (<see cref="StageGate"/>); its command runs it or waits.
    /// </summary>
    public bool FanIn { get; init; }

    /// <summary>Its record done, the run is Completed (in the same manifest write).</summary>
    public bool CompletesRun { get; init; }

    /// <summary>
    /// What a record announces once its outputs are recorded, given the run id, its key, its outputs and the run's plan:
    /// events (published) or the next record's command (sent to its stage's queue). The one place a stage's messages are made.
    /// </summary>
    public required Func<string, string, IReadOnlyDictionary<string, Contracts.ArtifactReference>, RunPlan, IEnumerable<object>> Announce { get; init; }

    /// <summary>The timing a record counts in (the report's timings); the stage's name unless it says otherwise (PPO: per arm).</summary>
    public Func<string, string>? TimedAs { get; init; }

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
/// The shape of one run that the stage keys depend on: its labelled questions (principles and the baseline's draws), the
/// PMs that learn from other questions' labels (the control's, the pooled one's) with those questions, and each PPO arm
/// with the first iteration of each of its chunks.
/// </summary>
public sealed record RunPlan(IReadOnlyList<string> Questions, IReadOnlyList<PlannedArm> Arms, IReadOnlyDictionary<string, IReadOnlyList<string>>? Derived = null)
{
    public static RunPlan Of(RunManifest manifest, Learning.Runs.RunConfig config) => new(manifest.Questions,
        [.. config.PolicyArms.Select(a => new PlannedArm(a.Name, [.. StageKeys.PpoChunkStarts(config.ForArm(a).Ppo)]))],
        Learning.Stages.PmQuestions.All(config).Except(manifest.Questions)
            .ToDictionary(pm => pm, pm => Learning.Stages.PmQuestions.TrainedOn(pm, config).Labels));

    /// <summary>The questions a PM is trained for: every labelled one, then those that learn from others' labels.</summary>
    public IEnumerable<string> PmQuestions => Derived is null ? Questions : [.. Questions, .. Derived.Keys];

    /// <summary>The labelled questions whose labels train <paramref name="pm"/>: its own, or a derived PM's.</summary>
    public IReadOnlyList<string> LabelsOf(string pm) => Derived?.GetValueOrDefault(pm) ?? [pm];

    public PlannedArm Arm(string name) => Arms.FirstOrDefault(a => a.Name == name) ?? throw new ArgumentException($"run has no arm '{name}'", nameof(name));

    /// <summary>Every record of the run, stage by stage in pipeline order.</summary>
    public IEnumerable<(PipelineStage Stage, string Key)> Records =>
        PipelineDefinition.Stages.SelectMany(s => s.Keys(this).Select(k => (s, k)));
}

/// <summary>One PPO arm of a run: its name and the first iteration of each chunk (its own PPO settings decide them).</summary>
public sealed record PlannedArm(string Name, IReadOnlyList<int> ChunkStarts)
{
    public IEnumerable<string> ChunkKeys => ChunkStarts.Select(start => StageKeys.PpoChunk(Name, start));

    /// <summary>The key of the last chunk, whose checkpoint is the arm's trained policy.</summary>
    public string FinalChunk => StageKeys.PpoChunk(Name, ChunkStarts[^1]);
}
