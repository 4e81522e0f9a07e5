namespace Morlaif.TestServers;

/// <summary>The run config the distributed tests and the soak use: every stage present, about a minute here.</summary>
public static class TinyDistributedRun
{
    public const string Config = """
        {
          "seed": 11,
          "principles": ["helpfulness", "conciseness", "ethicality"],
          "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 600, "epochs": 2, "batchSize": 64 },
          "pairs": { "train": 80, "test": 40, "human": 40, "accuracy": 80 },
          "preferenceModel": { "epochs": 3 },
          "ppo": { "iterations": 6, "iterationsPerChunk": 3, "rolloutsPerIteration": 64, "maxNewTokens": 24 },
          "evaluation": { "prompts": 30 }
        }
        """;

    /// <summary>
    /// Arms for every RL algorithm: MORLAIF with PPO (the paper's) and with GRPO, the baseline with RLOO (the evaluation
    /// compares the first MORLAIF arm with the baseline), each critic-free arm in groups of 4 rollouts per prompt.
    /// </summary>
    public const string EveryAlgorithmArms = """
        [ { "name": "morlaif" },
          { "name": "baseline", "reward": "baseline", "ppo": { "algorithm": "rloo", "groupSize": 4, "iterations": 6, "iterationsPerChunk": 3, "rolloutsPerIteration": 64, "maxNewTokens": 24 } },
          { "name": "morlaif-grpo", "ppo": { "algorithm": "grpo", "groupSize": 4, "rewardNormalization": "group", "iterations": 6, "iterationsPerChunk": 3, "rolloutsPerIteration": 64, "maxNewTokens": 24 } } ]
        """;

    /// <summary>The worker services and the instance names the tests give them (two preference trainers).</summary>
    public static readonly (string Service, string Name)[] Workers =
    [
        ("Morlaif.Labeller", "Labeller"), ("Morlaif.PreferenceTrainer", "PreferenceTrainer#1"), ("Morlaif.PreferenceTrainer", "PreferenceTrainer#2"),
        ("Morlaif.Scalarizer", "Scalarizer"), ("Morlaif.Evaluator", "Evaluator"), ("Morlaif.PpoLearner", "PpoLearner"),
    ];
}
