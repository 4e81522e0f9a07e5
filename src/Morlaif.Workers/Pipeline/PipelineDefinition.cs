using System.Globalization;
using Morlaif.Contracts;

namespace Morlaif.Workers.Pipeline;

/// <summary>
/// The pipeline, defined once: every stage's name, queue, command, triggers, event, outputs, record keys and
/// inputs. Fault marking, the contract-fault observer, replay, status, the report's timings, the fan-ins and
/// the supervisor all read this table; adding a stage is a row here and a consumer (README, "Adding a stage").
/// </summary>
public static class PipelineDefinition
{
    public static readonly PipelineStage Sft = new()
    {
        Name = "sft", Worker = WorkerRegistration.PpoLearner, Consumer = typeof(Learner.SftConsumer),
        Command = typeof(TrainSftPolicy), Triggers = [typeof(RunStarted), typeof(TrainSftPolicy)],
        Event = typeof(SftPolicyTrained), Outputs = [StageOutputs.Policy, StageOutputs.Pairs],
        Keys = _ => [StageKeys.Sft],
        Inputs = (_, _) => [],
        CommandFor = (runId, _) => new TrainSftPolicy { RunId = runId },
        KeyOf = _ => StageKeys.Sft,
        Announce = (runId, _, o, _) => [new SftPolicyTrained { RunId = runId, Policy = o[StageOutputs.Policy], Pairs = o[StageOutputs.Pairs] }],
    };

    public static readonly PipelineStage Label = new()
    {
        Name = "label", Worker = WorkerRegistration.Labeller, Consumer = typeof(Labeller.LabelConsumer),
        Command = typeof(LabelPairs), Triggers = [typeof(SftPolicyTrained), typeof(LabelPairs)],
        Event = typeof(PrincipleLabelled), Outputs = [StageOutputs.Labels], PerQuestion = true,
        Keys = plan => plan.Questions.Select(StageKeys.Label),
        Inputs = (_, _) => [StageKeys.Sft],
        CommandFor = (runId, key) => new LabelPairs { RunId = runId, Principle = Segment(key, 1) },
        KeyOf = m => m is LabelPairs { Principle: { } p } ? StageKeys.Label(p) : null,
        // A PM that learns from other questions' labels (the control's, the pooled one's) is started by the last of them.
        Announce = (runId, key, o, plan) =>
        [
            new PrincipleLabelled { RunId = runId, Principle = Segment(key, 1), Labels = o[StageOutputs.Labels] },
            .. (plan.Derived ?? new Dictionary<string, IReadOnlyList<string>>()).Where(d => d.Value[^1] == Segment(key, 1))
                .Select(d => new TrainPreferenceModel { RunId = runId, Principle = d.Key }),
        ],
    };

    public static readonly PipelineStage TrainPm = new()
    {
        Name = "train-pm", Worker = WorkerRegistration.PreferenceTrainer, Consumer = typeof(PreferenceTrainer.PreferenceModelConsumer),
        Command = typeof(TrainPreferenceModel), Triggers = [typeof(PrincipleLabelled), typeof(TrainPreferenceModel)],
        Event = typeof(PreferenceModelTrained), Outputs = [StageOutputs.Model], Long = true, PerQuestion = true,
        Keys = plan => plan.PmQuestions.Select(StageKeys.TrainPm),
        Inputs = (plan, key) => [StageKeys.Sft, .. plan.LabelsOf(Segment(key, 1)).Select(StageKeys.Label)],
        CommandFor = (runId, key) => new TrainPreferenceModel { RunId = runId, Principle = Segment(key, 1) },
        KeyOf = m => m switch
        {
            PrincipleLabelled e => StageKeys.TrainPm(e.Principle),
            TrainPreferenceModel c => StageKeys.TrainPm(c.Principle),
            _ => null,
        },
        Announce = (runId, key, o, _) => [new PreferenceModelTrained { RunId = runId, Principle = Segment(key, 1), Model = o[StageOutputs.Model] }],
    };

    public static readonly PipelineStage Scalarize = new()
    {
        Name = "scalarize", Worker = WorkerRegistration.Scalarizer, Consumer = typeof(Scalarizer.ScalarizeConsumer),
        Command = typeof(Contracts.Scalarize), Triggers = [typeof(PreferenceModelTrained), typeof(Contracts.Scalarize)],
        Event = typeof(RewardReady), Outputs = [StageOutputs.Objective], FanIn = true,
        Keys = _ => [StageKeys.Scalarize],
        Inputs = (plan, _) => [StageKeys.Sft, .. plan.PmQuestions.Select(StageKeys.TrainPm)],
        CommandFor = (runId, _) => new Contracts.Scalarize { RunId = runId },
        KeyOf = _ => StageKeys.Scalarize,
        // Every arm starts from the one objective (a baseline's reward needs none, but waits so all arms run alike);
        // a run without arms goes straight to its report.
        Announce = (runId, _, o, plan) => plan.Arms.Count == 0
            ? [new EvaluateRun { RunId = runId }]
            : plan.Arms.Select(arm => new RewardReady { RunId = runId, Arm = arm.Name, Objective = o[StageOutputs.Objective] }),
    };

    /// <summary>One record per arm and chunk; each chunk sends the next one to its own queue, the last publishes PolicyTrained.</summary>
    public static readonly PipelineStage Ppo = new()
    {
        Name = "ppo", Worker = WorkerRegistration.PpoLearner, Consumer = typeof(Learner.PpoConsumer),
        Command = typeof(RunPpoIteration), Triggers = [typeof(RewardReady), typeof(RunPpoIteration)],
        Event = typeof(PolicyTrained), Outputs = [StageOutputs.Checkpoint, StageOutputs.Stats], Long = true,
        Keys = plan => plan.Arms.SelectMany(arm => arm.ChunkKeys),
        Inputs = (plan, key) =>
        {
            var (arm, start) = Chunk(key);
            var starts = plan.Arm(arm).ChunkStarts.ToList();
            var index = starts.IndexOf(start);
            // The objective waits for every PM, so it holds each arm's reward.
            List<string> inputs = [StageKeys.Sft, StageKeys.Scalarize];
            return index <= 0 ? inputs : [.. inputs, StageKeys.PpoChunk(arm, starts[index - 1])];
        },
        ReplayKeys = (manifest, plan) => plan.Arms
            .Select(arm => arm.ChunkKeys.FirstOrDefault(k => manifest.Stages.GetValueOrDefault(k)?.State != Storage.StageState.Done))
            .OfType<string>(),
        CommandFor = (runId, key) => new RunPpoIteration { RunId = runId, Arm = Chunk(key).Arm, Iteration = Chunk(key).Start },
        KeyOf = m => m switch
        {
            RewardReady e => StageKeys.PpoChunk(e.Arm, 0),
            RunPpoIteration c => StageKeys.PpoChunk(c.Arm, c.Iteration),
            _ => null,
        },
        // No message is held for longer than one chunk, whatever the total budget.
        Announce = (runId, key, o, plan) =>
        {
            var (arm, start) = Chunk(key);
            var next = plan.Arm(arm).ChunkStarts.SkipWhile(s => s != start).Skip(1).Cast<int?>().FirstOrDefault();
            return next is { } iteration
                ? [new RunPpoIteration { RunId = runId, Arm = arm, Iteration = iteration }]
                : [new PolicyTrained { RunId = runId, Arm = arm, Checkpoint = o[StageOutputs.Checkpoint] }];
        },
        TimedAs = key => StageKeys.Ppo(Chunk(key).Arm),
    };

    public static readonly PipelineStage Evaluate = new()
    {
        Name = "evaluate", Worker = WorkerRegistration.Evaluator, Consumer = typeof(Evaluator.EvaluateConsumer),
        Command = typeof(EvaluateRun), Triggers = [typeof(PolicyTrained), typeof(EvaluateRun)],
        Event = typeof(RunEvaluated), Outputs = [StageOutputs.Report, StageOutputs.ReportMarkdown], FanIn = true, CompletesRun = true,
        Keys = _ => [StageKeys.Evaluate],
        Inputs = (plan, _) => [StageKeys.Sft, .. plan.PmQuestions.Select(StageKeys.TrainPm), StageKeys.Scalarize, .. plan.Arms.Select(arm => arm.FinalChunk)],
        CommandFor = (runId, _) => new EvaluateRun { RunId = runId },
        KeyOf = _ => StageKeys.Evaluate,
        Announce = (runId, _, o, _) => [new RunEvaluated { RunId = runId, Report = o[StageOutputs.Report], ReportMarkdown = o[StageOutputs.ReportMarkdown] }],
    };

    /// <summary>In pipeline order.</summary>
    public static readonly PipelineStage[] Stages = [Sft, Label, TrainPm, Scalarize, Ppo, Evaluate];

    public static IEnumerable<string> Names => Stages.Select(s => s.Name);

    /// <summary>"--principle applies to --stage label or train-pm only": the stages with one record per question.</summary>
    public static string PerQuestionNames => string.Join(" or ", Stages.Where(s => s.PerQuestion).Select(s => s.Name));

    /// <summary>The stage a manifest key belongs to ("train-pm/helpfulness" → train-pm).</summary>
    public static PipelineStage OfKey(string key) =>
        Stages.FirstOrDefault(s => s.Owns(key)) ?? throw new ArgumentException($"'{key}' is not a stage key of this pipeline");

    public static PipelineStage? Named(string name) => Stages.FirstOrDefault(s => s.Name == name);

    public static PipelineStage? OfQueue(string queue) => Stages.FirstOrDefault(s => s.Queue == queue);

    public static PipelineStage? Triggered(Type message) => Stages.FirstOrDefault(s => s.Triggers.Contains(message));

    /// <summary>Every message type a stage consumes: what a Fault can be about.</summary>
    public static IEnumerable<Type> AllTriggers => Stages.SelectMany(s => s.Triggers).Distinct();

    /// <summary>The (queue, command) that asks for the record <paramref name="key"/> again.</summary>
    public static (string Queue, object Command) CommandFor(string runId, string key)
    {
        var stage = OfKey(key);
        return (stage.Queue, stage.CommandFor(runId, key));
    }

    /// <summary>The stage whose command <paramref name="message"/> is, if it is one (sent to that stage's queue; an event is published).</summary>
    public static PipelineStage? CommandedBy(object message) => Stages.FirstOrDefault(s => s.Command == message.GetType());

    /// <summary>
    /// Every stage's wall time in a run so far, from its records' first start to their last completion (grouped as the
    /// stage says: PPO per arm), each record's own parts as "key/part" (the SFT record's training and pair sampling),
    /// and the run's total: the report's timings.
    /// </summary>
    public static Dictionary<string, double> Timings(Storage.RunManifest manifest, RunPlan plan, DateTimeOffset now)
    {
        var timings = new Dictionary<string, double>();
        foreach (var stage in Stages)
            foreach (var group in stage.Keys(plan).GroupBy(stage.TimedAs ?? (_ => stage.Name)))
            {
                var records = group.Select(k => manifest.Stages.GetValueOrDefault(k)).Where(s => s?.StartedAt is not null && s.CompletedAt is not null).ToList();
                timings[group.Key] = records.Count == 0 ? 0 : (records.Max(s => s!.CompletedAt!.Value) - records.Min(s => s!.StartedAt!.Value)).TotalSeconds;
                foreach (var key in group)
                    foreach (var (part, seconds) in manifest.Stages.GetValueOrDefault(key)?.Seconds ?? [])
                        timings[$"{key}/{part}"] = seconds;
            }
        timings["total"] = (now - manifest.CreatedAt).TotalSeconds;
        return timings;
    }

    /// <summary>The inputs of <paramref name="key"/> that are not produced yet in <paramref name="manifest"/>: what a fan-in waits for.</summary>
    public static List<string> Missing(Storage.RunManifest manifest, RunPlan plan, string key) =>
        OfKey(key).Inputs(plan, key).Where(k => !Holds(manifest, k)).ToList();

    /// <summary>Record <paramref name="key"/> is Done with every output its stage declares (a Done record without them, left by a manifest that went back, is not).</summary>
    public static bool IsDone(Storage.RunManifest manifest, string key) =>
        manifest.Stages.GetValueOrDefault(key)?.State == Storage.StageState.Done && Holds(manifest, key);

    /// <summary>Record <paramref name="key"/> is produced and names every output its stage declares.</summary>
    public static bool Holds(Storage.RunManifest manifest, string key) =>
        manifest.Stages.GetValueOrDefault(key) is { Produced: true } record && OfKey(key).Outputs.All(record.Outputs.ContainsKey);

    /// <summary>
    /// Marks Done every record still Publishing whose announcement nothing waits for any more: every record
    /// that reads its outputs is produced, so its event was delivered or is no longer needed. A manifest that
    /// went back to an earlier state (a storage service that lost its last acknowledged writes) leaves such
    /// records behind while the run moves on; the fan-ins only ask that inputs be produced. Returns their keys.
    /// </summary>
    public static List<string> Settle(Storage.RunManifest manifest, RunPlan plan, DateTimeOffset now)
    {
        var readers = plan.Records.SelectMany(r => r.Stage.Inputs(plan, r.Key).Select(input => (Input: input, Reader: r.Key)))
            .ToLookup(d => d.Input, d => d.Reader);
        var settled = new List<string>();
        foreach (var (_, key) in plan.Records)
        {
            if (manifest.Stages.GetValueOrDefault(key) is not { State: Storage.StageState.Publishing } record || !readers[key].Any()) continue;
            if (!readers[key].All(r => Holds(manifest, r))) continue;
            record.State = Storage.StageState.Done;
            record.CompletedAt ??= now;
            record.Claim = null;
            settled.Add(key);
        }
        return settled;
    }

    private static string Segment(string key, int index) => key.Split('/')[index];

    private static (string Arm, int Start) Chunk(string key) => (Segment(key, 1), int.Parse(Segment(key, 2), CultureInfo.InvariantCulture));
}

/// <summary>The names of stage outputs in manifest records (and in the report's references).</summary>
public static class StageOutputs
{
    public const string Policy = "policy", Pairs = "pairs", Labels = "labels", Model = "model", Objective = "objective",
        Checkpoint = "checkpoint", Stats = "stats", Report = "report", ReportMarkdown = "report-md",
        // Optional: where a truth scores the evaluation's answers.
        Truths = "truths";
}
