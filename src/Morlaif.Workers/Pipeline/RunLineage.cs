using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Workers.Pipeline;

/// <summary>
/// Where a run's artifacts came from (`morlaif lineage`): every record of the run's plan with the artifacts it recorded and the
/// records it was made from (<see cref="PipelineStage.Inputs"/>), and the products a user asks about (each PM, each arm's
/// policy) with everything they were made from. Derived from <see cref="PipelineDefinition"/> and the manifest, never
/// restated: a stage added to the definition shows up here as it is. Every record reads the run's config; the records
/// that read no other record (SFT) are shown made from the config and the run's inputs (a text run's model and data),
/// so every chain ends there. The label records name the judge that made their labels.
/// </summary>
public sealed record RunLineage(
    string RunId,
    RunState State,
    DateTimeOffset CreatedAt,
    string Task,
    long Seed,
    LineageArtifact Config,
    LineageJudge Judge,
    IReadOnlyList<LineageArtifact> Inputs,
    IReadOnlyList<LineageRecord> Records,
    IReadOnlyList<LineageProduct> Products)
{
    /// <summary>The node id of the run's config in <see cref="LineageRecord.MadeFrom"/> and <see cref="LineageProduct.Lineage"/>.</summary>
    public const string ConfigNode = "config";

    /// <summary>The node id of one of the run's inputs ("input/model").</summary>
    public static string InputNode(string name) => $"input/{name}";

    public const string PreferenceModel = "preference-model", Policy = "policy";

    public LineageRecord? Record(string key) => Records.FirstOrDefault(r => r.Key == key);

    public static RunLineage Of(RunManifest manifest, RunConfig config)
    {
        var plan = RunPlan.Of(manifest, config);
        var judge = new LineageJudge(config.Judge.Kind, config.Judge.Model, config.Judge.Endpoint);
        var roots = new List<string> { ConfigNode };
        roots.AddRange(manifest.Inputs.Keys.Select(InputNode));

        var records = plan.Records.Select(r =>
        {
            var record = manifest.Stages.GetValueOrDefault(r.Key);
            var inputs = r.Stage.Inputs(plan, r.Key).ToList();
            return new LineageRecord(r.Key, r.Stage.Name, record?.State ?? StageState.Pending, record?.Attempts ?? 0, record?.Recomputed ?? 0,
                record?.StartedAt, record?.CompletedAt,
                [.. (record?.Outputs ?? []).OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => LineageArtifact.Of(o.Key, o.Value))],
                inputs.Count == 0 ? roots : inputs,
                ReferenceEquals(r.Stage, PipelineDefinition.Label) ? judge : null);
        }).ToList();
        var byKey = records.ToDictionary(r => r.Key);

        // The products: each PM, then each arm's policy (the checkpoint of its last chunk).
        var products = PipelineDefinition.TrainPm.Keys(plan).Select(key => Product(PreferenceModel, key.Split('/', 2)[1], key, StageOutputs.Model, null))
            .Concat(plan.Arms.Select(arm => Product(Policy, arm.Name, arm.FinalChunk, StageOutputs.Checkpoint, Reward(config.Arm(arm.Name)))))
            .ToList();

        return new RunLineage(manifest.RunId, manifest.State, manifest.CreatedAt, config.Task, config.Seed, LineageArtifact.Of(ConfigNode, manifest.Config), judge,
            [.. manifest.Inputs.Select(i => LineageArtifact.Of(i.Key, i.Value))], records, products);

        LineageProduct Product(string kind, string name, string key, string output, LineageReward? reward) =>
            new(kind, name, key, output, byKey[key].Outputs.FirstOrDefault(o => o.Name == output), Ancestors(key), reward);

        // The PMs an arm's reward scores with: its PPO records read the objective, which waits for every PM, but the
        // baseline's reward, say, is its one PM.
        LineageReward Reward(RunConfig.ArmConfig arm) => new(arm.Reward,
            arm.Reward == Learning.Stages.ScalarizationStage.MorlaifArm ? config.ForArm(arm).Scalarization : null,
            [.. Learning.Stages.ScalarizationStage.RewardQuestions(arm.Reward, config).Select(StageKeys.TrainPm)]);

        // Everything a record was made from, nearest first (breadth first), each once.
        List<string> Ancestors(string key)
        {
            var seen = new HashSet<string> { key };
            var order = new List<string>();
            var queue = new Queue<string>([key]);
            while (queue.TryDequeue(out var next))
                foreach (var input in byKey.TryGetValue(next, out var r) ? r.MadeFrom : [])
                    if (seen.Add(input))
                    {
                        order.Add(input);
                        queue.Enqueue(input);
                    }
            return order;
        }
    }
}

/// <summary>One stored artifact: its name in its record (or the run's input name, or "config"), its blob, hash and size.</summary>
public sealed record LineageArtifact(string Name, string Blob, string Sha256, long Length)
{
    public static LineageArtifact Of(string name, ArtifactReference reference) => new(name, reference.Name, reference.Sha256, reference.Length);
}

/// <summary>The judge of the run's config: synthetic (the world's) or an OpenAI-compatible model at an endpoint.</summary>
public sealed record LineageJudge(string Kind, string? Model, string? Endpoint);

/// <summary>
/// One record of the run: its stage, state, attempts (and how often it was recomputed because an output went
/// missing), the artifacts it recorded, the records (or, for the first, the run's config and inputs) it was made
/// from, and the judge where its stage is labelling.
/// </summary>
public sealed record LineageRecord(
    string Key,
    string Stage,
    StageState State,
    int Attempts,
    int Recomputed,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<LineageArtifact> Outputs,
    IReadOnlyList<string> MadeFrom,
    LineageJudge? Judge);

/// <summary>
/// A trained model of the run: a preference model (per question) or an arm's policy, the record and output that hold
/// it (null artifact: not produced yet), every record, config and input it was made from, nearest first, and for a
/// policy the reward PPO trained it on.
/// </summary>
public sealed record LineageProduct(string Kind, string Name, string Record, string Output, LineageArtifact? Artifact, IReadOnlyList<string> Lineage,
    LineageReward? Reward);

/// <summary>
/// A policy's reward: the arm's reward kind (morlaif, baseline, baseline-human), the scalarization of a morlaif reward,
/// and the PM records it scores with.
/// </summary>
public sealed record LineageReward(string Kind, string? Scalarization, IReadOnlyList<string> PreferenceModels);
