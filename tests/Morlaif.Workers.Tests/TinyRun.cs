using Morlaif.Learning.Runs;

namespace Morlaif.Workers.Tests;

internal static class TinyRun
{
    /// <summary>Two principles plus the baseline's "constitution", small everything; PPO in chunks of 2 so chunking is exercised.</summary>
    public static RunConfig Config(long seed = 5) => RunConfig.Parse($$"""
        {
          "seed": {{seed}},
          "principles": ["helpfulness", "conciseness"],
          "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 600, "epochs": 2, "batchSize": 64 },
          "pairs": { "train": 80, "test": 40, "human": 40, "accuracy": 80 },
          "preferenceModel": { "epochs": 1 },
          "ppo": { "iterations": 4, "iterationsPerChunk": 2, "rolloutsPerIteration": 16, "maxNewTokens": 24 },
          "evaluation": { "prompts": 30 }
        }
        """);
}
