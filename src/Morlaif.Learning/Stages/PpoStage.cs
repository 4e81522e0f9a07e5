using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>PPO for one arm, one bounded iteration at a time, resumable from a learner checkpoint.</summary>
public static class PpoStage
{
    /// <summary>A learner starting from the SFT policy, or from <paramref name="checkpoint"/> when one is given.</summary>
    public static PpoLearner Learner(RunContext ctx, PolicyModel sft, IRewardModel reward, Stream? checkpoint = null)
    {
        var policy = sft.Clone();
        var reference = sft.Clone();
        var learner = new PpoLearner(policy, reference, reward, ctx.Config.Ppo, ctx.Seed("ppo"));
        if (checkpoint is not null) learner.LoadCheckpoint(checkpoint);
        return learner;
    }

    /// <summary>
    /// The prompts of one iteration. Both arms see the same prompts in the same order: the same budget,
    /// spent on the same data.
    /// </summary>
    public static List<int[]> Prompts(RunContext ctx, int iteration) =>
        World.Prompts.Sample(new Random(ctx.Seed("ppo-prompts", iteration)), ctx.Config.Ppo.RolloutsPerIteration)
            .Select(p => ctx.Tokenizer.EncodePrompt(p.Text)).ToList();

    public static PpoIterationStats Iterate(RunContext ctx, PpoLearner learner) => learner.Step(Prompts(ctx, learner.Iteration));

    /// <summary>An arm's per-iteration statistics as stored between chunks and read by the report.</summary>
    public static byte[] StatsToJson(IReadOnlyList<PpoIterationStats> stats) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(stats, Runs.RunConfig.Json);

    public static List<PpoIterationStats> StatsFromJson(byte[] json) =>
        System.Text.Json.JsonSerializer.Deserialize<List<PpoIterationStats>>(json, Runs.RunConfig.Json)
        ?? throw new InvalidDataException("PPO statistics are empty");
}
