namespace Morlaif.Workers;

/// <summary>The manifest's record keys (the stages themselves are declared in <see cref="Pipeline.PipelineDefinition"/>).</summary>
public static class StageKeys
{
    public const string Sft = "sft";
    public const string Evaluate = "evaluate";
    public const string Scalarize = "scalarize";
    public static string Label(string question) => $"label/{question}";
    public static string TrainPm(string question) => $"train-pm/{question}";
    public static string Ppo(string arm) => $"ppo/{arm}";
    public static string PpoChunk(string arm, int iteration) => $"ppo/{arm}/{iteration:D4}";

    /// <summary>
    /// The first iteration of every PPO chunk of a run, in order (chunks of ppo.iterationsPerChunk). Chunk 0
    /// always exists: with ppo.iterations = 0 it stores the SFT policy as the arm's policy.
    /// </summary>
    public static IEnumerable<int> PpoChunkStarts(Learning.Ppo.PpoSettings ppo) =>
        Enumerable.Range(0, Math.Max(1, (ppo.Iterations + ppo.IterationsPerChunk - 1) / ppo.IterationsPerChunk)).Select(i => i * ppo.IterationsPerChunk);

    /// <summary>The key of an arm's last chunk, whose checkpoint is the trained policy.</summary>
    public static string FinalPpoChunk(Learning.Ppo.PpoSettings ppo, string arm) => PpoChunk(arm, PpoChunkStarts(ppo).Last());
}
