namespace Morlaif.Learning.Ppo;

/// <summary>
/// The RL stage's settings (the config's "ppo" block). Defaults are METHOD.md's (the paper's trlx config: PPO) except
/// where a 0.1M-parameter model trained for tens of iterations needs otherwise: the learning rate (4e-6 moves a 7B
/// model, not this one) and the rollout budget. Those two are documented in the README. <see cref="Algorithm"/> swaps
/// PPO for a critic-free method (GRPO or RLOO) on the same rollouts, rewards and chunks.
/// </summary>
public sealed record PpoSettings
{
    /// <summary>"ppo" (the paper's: GAE on a value head), "grpo" or "rloo" (critic-free: a group of samples per prompt is the baseline).</summary>
    public string Algorithm { get; init; } = RlAlgorithm.Ppo;
    /// <summary>GRPO and RLOO: samples per prompt; rolloutsPerIteration / groupSize distinct prompts per iteration.</summary>
    public int GroupSize { get; init; } = 4;
    /// <summary>
    /// How each principle's PM score is put on a common scale before the scalarizer: "fixed" (by the PM's own training
    /// statistics, the paper's) or "group" (standardised within each prompt's group, or PPO's whole batch, as GDPO does).
    /// </summary>
    public string RewardNormalization { get; init; } = Ppo.RewardNormalization.Fixed;
    /// <summary>
    /// GRPO: β of its KL loss term (the k3 estimator, see <see cref="PpoLearner"/>). 0.04 is DeepSeekMath's and was trl's
    /// GRPOTrainer default; trl now defaults to 0, which leaves nothing holding the policy near the reference.
    /// </summary>
    public double KlLossCoef { get; init; } = 0.04;
    /// <summary>The judge watching the policy (<see cref="MonitorSettings"/>); absent: on for text runs, off in the world.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public MonitorSettings? Monitor { get; init; }

    /// <summary>Whether the algorithm learns a value head (PPO) or takes its baseline from a group of samples (GRPO, RLOO).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool CriticFree => Algorithm != RlAlgorithm.Ppo;

    /// <summary>Consecutive rollouts that share a prompt: <see cref="GroupSize"/> for GRPO and RLOO, 1 for PPO.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int PromptGroup => CriticFree ? GroupSize : 1;

    public int Iterations { get; init; } = 40;
    /// <summary>Iterations per message in the distributed pipeline: one bounded, checkpointed chunk of work.</summary>
    public int IterationsPerChunk { get; init; } = 10;
    public int RolloutsPerIteration { get; init; } = 64;
    public int MaxNewTokens { get; init; } = 40;
    public int Epochs { get; init; } = 4;
    public int MiniBatches { get; init; } = 2;
    /// <summary>
    /// 2e-4: chosen among 5e-5 to 4e-4, a faster KL controller and 80 iterations by proxy reward and KL alone, on two
    /// development seeds (experiments/ppo-settings): the best proxy reward whose KL stays within the target.
    /// </summary>
    public double LearningRate { get; init; } = 2e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double ClipRange { get; init; } = 0.2;
    public double ValueClipRange { get; init; } = 0.2;
    public double ValueCoef { get; init; } = 1.0;
    public double Gamma { get; init; } = 1.0;
    public double Lambda { get; init; } = 0.95;
    public double InitKlCoef { get; init; } = 0.05;
    public double KlTarget { get; init; } = 6;
    public double KlHorizon { get; init; } = 10000;
    public double RewardClip { get; init; } = 10;
    public bool ScaleReward { get; init; } = true;
}

/// <summary>The RL algorithms of <see cref="PpoSettings.Algorithm"/>.</summary>
public static class RlAlgorithm
{
    public const string Ppo = "ppo", Grpo = "grpo", Rloo = "rloo";
    public static readonly string[] All = [Ppo, Grpo, Rloo];
}

/// <summary>The values of <see cref="PpoSettings.RewardNormalization"/>.</summary>
public static class RewardNormalization
{
    public const string Fixed = "fixed", Group = "group";
    public static readonly string[] All = [Fixed, Group];
}

/// <summary>
/// The judge watching the policy for reward hacking (<see cref="PolicyMonitor"/>): every <see cref="Every"/> iterations,
/// <see cref="Prompts"/> prompts answered by the policy and by the SFT policy, put to the run's judge per principle in
/// both orders.
/// </summary>
public sealed record MonitorSettings
{
    /// <summary>Absent: on for text runs (nothing else can see hacking there), off in the world (its truth does).</summary>
    public bool? Enabled { get; init; }
    public int Every { get; init; } = 5;
    public int Prompts { get; init; } = 16;
}
