using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Stages;

/// <summary>PPO for one arm, one bounded iteration at a time, resumable from a learner checkpoint.</summary>
public static class PpoStage
{
    /// <summary>A learner starting from the SFT policy, or from <paramref name="checkpoint"/> when one is given.</summary>
    public static PpoLearner Learner(RunContext ctx, PolicyModel sft, IRewardModel reward, byte[]? checkpoint = null) =>
        checkpoint is null ? NewLearner(ctx, sft, reward) : Restored(() => NewLearner(ctx, sft, reward), checkpoint);

    /// <summary>A new learner from <paramref name="create"/> with the state of a learner checkpoint's bytes.</summary>
    public static PpoLearner Restored(Func<PpoLearner> create, byte[] checkpoint)
    {
        using var c = Checkpoint.FromBytes(checkpoint, PpoLearner.CheckpointKind);
        return Restored(create, c);
    }

    private static PpoLearner NewLearner(RunContext ctx, PolicyModel sft, IRewardModel reward) => NewLearner(ctx, NewPolicy(sft), reward);

    private static PpoLearner NewLearner(RunContext ctx, WorldPpoPolicy policy, IRewardModel reward) => new(policy, reward, ctx.Config.Ppo, ctx.Seed("ppo"));

    /// <summary>The SFT policy to train and a frozen copy of it as the reference.</summary>
    private static WorldPpoPolicy NewPolicy(PolicyModel sft) => new(sft.Clone(), sft.Clone());

    /// <summary>A new learner from <paramref name="create"/> with <paramref name="checkpoint"/>'s state (policy, optimizer, KL, moments, iteration).</summary>
    public static PpoLearner Restored(Func<PpoLearner> create, Checkpoint checkpoint)
    {
        var learner = create();
        try
        {
            learner.Restore(checkpoint);
            return learner;
        }
        catch
        {
            learner.Dispose();
            throw;
        }
    }

    /// <summary>Progress inside a chunk, as its stage checkpoint: the learner's checkpoint with the statistics of the iterations done in its state.</summary>
    public static byte[] SaveProgress(PpoLearner learner, IReadOnlyList<PpoIterationStats> stats)
    {
        using var c = learner.ToCheckpoint();
        c.State!["stats"] = JsonSerializer.SerializeToNode(stats, RunConfig.Json);
        return c.ToBytes();
    }

    /// <summary>Reads what <see cref="SaveProgress"/> wrote back into a learner.</summary>
    public static (PpoLearner Learner, List<PpoIterationStats> Stats) LoadProgress(RunContext ctx, PolicyModel sft, IRewardModel reward, byte[] progress) =>
        LoadProgress(() => NewLearner(ctx, sft, reward), progress);

    /// <summary>Reads what <see cref="SaveProgress"/> wrote back into a learner made by <paramref name="create"/>.</summary>
    public static (PpoLearner Learner, List<PpoIterationStats> Stats) LoadProgress(Func<PpoLearner> create, byte[] progress)
    {
        using var c = Checkpoint.FromBytes(progress, PpoLearner.CheckpointKind);
        if (c.State is not JsonObject state || state["stats"] is not JsonArray stats) throw new InvalidDataException("the PPO checkpoint has no chunk statistics: not a chunk's progress");
        state.Remove("stats");
        var done = StatsFromJson(Encoding.UTF8.GetBytes(stats.ToJsonString()));
        return (Restored(create, c), done);
    }

    /// <summary>
    /// The prompts of one iteration. Both arms see the same prompts in the same order: the same budget,
    /// spent on the same data.
    /// </summary>
    public static List<SyntheticPrompt> Prompts(RunContext ctx, int iteration) =>
        World.Prompts.Sample(new Random(ctx.Seed("ppo-prompts", iteration)), ctx.Config.Ppo.RolloutsPerIteration);

    /// <summary>A whole arm in one go (the in-process run, an experiment): every iteration from the SFT policy, then the trained policy.</summary>
    public static (PolicyModel Policy, List<PpoIterationStats> Stats) Train(RunContext ctx, PolicyModel sft, IRewardModel reward, CancellationToken cancel = default)
    {
        var policy = NewPolicy(sft);
        using var learner = NewLearner(ctx, policy, reward);
        var stats = new List<PpoIterationStats>();
        while (learner.Iteration < ctx.Config.Ppo.Iterations)
        {
            cancel.ThrowIfCancellationRequested();
            stats.Add(Iterate(ctx, learner));
        }
        return (policy.Take(), stats);
    }

    /// <summary>
    /// One iteration, and what this world can say that the proxy reward cannot: the rollouts' mean true preference and
    /// each principle's ground-truth score (free here; never read by the learner or by any choice of settings).
    /// </summary>
    public static PpoIterationStats Iterate(RunContext ctx, PpoLearner learner)
    {
        var prompts = Prompts(ctx, learner.Iteration);
        var stats = learner.Step(prompts.Select(p => ctx.Tokenizer.EncodePrompt(p.Text)).ToList());
        var parsed = prompts.Select((p, i) => (p, r: ParsedResponse.Parse(p, ctx.Tokenizer.Decode(learner.LastResponses[i])))).ToList();
        var truth = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var q in GroundTruth.Principles.Select(x => x.Name).Append(Principle.Overall))
            truth[q] = parsed.Average(x => GroundTruth.Score(q, x.p, x.r));
        return stats with { Truth = truth };
    }

    /// <summary>An arm's per-iteration statistics as stored between chunks and read by the report.</summary>
    public static byte[] StatsToJson(IReadOnlyList<PpoIterationStats> stats) => JsonSerializer.SerializeToUtf8Bytes(stats, RunConfig.Json);

    public static List<PpoIterationStats> StatsFromJson(byte[] json)
    {
        try
        {
            return JsonSerializer.Deserialize<List<PpoIterationStats>>(json, RunConfig.Json)
                   ?? throw new InvalidDataException("PPO statistics are empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"PPO statistics are not readable: {e.Message}", e);
        }
    }
}
