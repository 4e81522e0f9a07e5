using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers;

/// <summary>The manifest's record keys, made from the stages' names in <see cref="PipelineDefinition"/>.</summary>
public static class StageKeys
{
    public static string Sft => PipelineDefinition.Sft.Name;
    public static string Evaluate => PipelineDefinition.Evaluate.Name;
    public static string Scalarize => PipelineDefinition.Scalarize.Name;
    public static string Label(string question) => $"{PipelineDefinition.Label.Name}/{question}";
    public static string TrainPm(string question) => $"{PipelineDefinition.TrainPm.Name}/{question}";
    public static string Ppo(string arm) => $"{PipelineDefinition.Ppo.Name}/{arm}";
    public static string PpoChunk(string arm, int iteration) => $"{Ppo(arm)}/{iteration:D4}";

    /// <summary>
    /// The first iteration of every PPO chunk of a run, in order (chunks of ppo.iterationsPerChunk). Chunk 0
    /// always exists: with ppo.iterations = 0 it stores the SFT policy as the arm's policy.
    /// </summary>
    public static IEnumerable<int> PpoChunkStarts(Learning.Ppo.PpoSettings ppo) =>
        Enumerable.Range(0, Math.Max(1, (ppo.Iterations + ppo.IterationsPerChunk - 1) / ppo.IterationsPerChunk)).Select(i => i * ppo.IterationsPerChunk);

    /// <summary>The key of an arm's last chunk, whose checkpoint is the trained policy (the arm's own PPO settings decide it).</summary>
    public static string FinalPpoChunk(Learning.Runs.RunConfig config, string arm) => PpoChunk(arm, PpoChunkStarts(config.ForArm(config.Arm(arm)).Ppo).Last());
}
