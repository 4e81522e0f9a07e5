using Morlaif.Contracts;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;

namespace Morlaif.Workers.Backends;

/// <summary>
/// One record of each stage, computed with a run's model family: the synthetic world's small transformer
/// (<see cref="WorldStages"/>) or a Hugging Face causal LM with LoRA (<see cref="Text.TextStages"/>). Each reads its
/// inputs through <see cref="RunArtifacts"/>, calls the learning core, and stores the artifacts its stage declares;
/// the consumers around it are the same for both, and <see cref="RunTasks"/> is the one place that picks.
/// </summary>
public interface IStageBackend
{
    /// <summary>The SFT policy and the response pairs sampled from it.</summary>
    Task<StageOutput> SftAsync(RunManifest m, RunContext ctx, CancellationToken cancel);

    /// <summary>One question's labels of the pairs.</summary>
    Task<LabelSet> LabelAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel);

    /// <summary>One question's PM, trained epoch by epoch with a checkpoint after each.</summary>
    Task<ArtifactReference> TrainPmAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel);

    /// <summary>The principle weights and every objective's accuracy.</summary>
    Task<ObjectiveFit> ScalarizeAsync(RunManifest m, RunContext ctx, CancellationToken cancel);

    /// <summary>PPO iterations [start, end) of one arm: the chunk's checkpoint and statistics.</summary>
    Task<Dictionary<string, ArtifactReference>> PpoChunkAsync(RunManifest m, RunContext ctx, string arm, int start, int end, CancellationToken cancel);

    /// <summary>
    /// The compared arms' trained policies on the held-out prompts (<see cref="EvaluationStage"/>), and what the report
    /// says of the models; no evaluation when the run trains no arms.
    /// </summary>
    Task<Evaluated> EvaluateAsync(RunManifest m, RunContext ctx, CancellationToken cancel);

    /// <summary>One question's trained PM's statistics, as the report shows them.</summary>
    Task<PreferenceModelStats> PmStatsAsync(RunManifest m, string question, CancellationToken cancel);
}

/// <summary>
/// An evaluation's result and what only the model family knows for the report: the world's description, or the
/// Hugging Face policy's, how many sampled pairs stayed identical, and where a truth scores them every policy's answers.
/// </summary>
public sealed record Evaluated(EvaluationResult? Result, WorldDescription? World = null, ModelDescription? Model = null, int? IdenticalPairs = null,
    PolicyTruths? Truths = null);

/// <summary>The SFT record's timed parts, as every backend records them (the report's "sft/train" and "sft/pairs").</summary>
public static class SftParts
{
    public const string Train = "train", Pairs = "pairs";
}

/// <summary>A run's stage backend, as its task says (<see cref="RunTasks.For"/>).</summary>
public sealed class StageBackends(IServiceProvider services)
{
    public IStageBackend For(RunContext ctx) => RunTasks.For(ctx.Config).Backend(services);
}
