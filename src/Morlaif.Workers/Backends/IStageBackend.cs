using Morlaif.Contracts;
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

    /// <summary>Both arms' policies compared, and the run's report (JSON and Markdown) from every stage's outputs.</summary>
    Task<RunReportFiles> EvaluateAsync(RunManifest m, RunContext ctx, Func<double, Dictionary<string, double>> timings, CancellationToken cancel);
}

/// <summary>The SFT record's timed parts, as every backend records them (the report's "sft/train" and "sft/pairs").</summary>
public static class SftParts
{
    public const string Train = "train", Pairs = "pairs";
}

/// <summary>A run's report as stored, and the line a worker logs about it.</summary>
public sealed record RunReportFiles(byte[] Json, byte[] Markdown, string Summary);

/// <summary>A run's stage backend, as its task says (<see cref="RunTasks.For"/>).</summary>
public sealed class StageBackends(IServiceProvider services)
{
    public IStageBackend For(RunContext ctx) => RunTasks.For(ctx.Config).Backend(services);
}
