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
    public static PpoLearner Learner(WorldRun ctx, PolicyModel sft, IRewardModel reward, byte[]? checkpoint = null) =>
        checkpoint is null ? NewLearner(ctx, sft, reward) : Restored(() => NewLearner(ctx, sft, reward), checkpoint);

    /// <summary>A new learner from <paramref name="create"/> with the state of a learner checkpoint's bytes.</summary>
    public static PpoLearner Restored(Func<PpoLearner> create, byte[] checkpoint)
    {
        using var c = Checkpoint.FromBytes(checkpoint, PpoLearner.CheckpointKind);
        return Restored(create, c);
    }

    private static PpoLearner NewLearner(WorldRun ctx, PolicyModel sft, IRewardModel reward) => NewLearner(ctx, NewPolicy(sft, ctx.Config.Ppo), reward);

    private static PpoLearner NewLearner(WorldRun ctx, WorldPpoPolicy policy, IRewardModel reward) => new(policy, reward, ctx.Config.Ppo, ctx.Seed("ppo"));

    /// <summary>The SFT policy to train (its value head only for PPO) and a frozen copy of it as the reference.</summary>
    private static WorldPpoPolicy NewPolicy(PolicyModel sft, PpoSettings ppo) => new(sft.Clone(), sft.Clone(), valueHead: !ppo.CriticFree);

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
    public static (PpoLearner Learner, List<PpoIterationStats> Stats) LoadProgress(WorldRun ctx, PolicyModel sft, IRewardModel reward, byte[] progress) =>
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
    /// The prompts of one iteration, each drawn by <paramref name="draw"/> from a generator seeded by the run and the
    /// iteration: arms with the same algorithm see the same prompts in the same order, the same budget spent on the same
    /// data. GRPO and RLOO draw rolloutsPerIteration / groupSize prompts and ask each groupSize times in a row.
    /// </summary>
    public static List<TPrompt> Prompts<TPrompt>(RunConfig config, int iteration, Func<Random, TPrompt> draw)
    {
        var rng = new Random(Seeds.Derive(config.Seed, "ppo-prompts", iteration));
        var group = config.Ppo.PromptGroup;
        return [.. Enumerable.Range(0, config.Ppo.RolloutsPerIteration / group).Select(_ => draw(rng)).SelectMany(p => Enumerable.Repeat(p, group))];
    }

    /// <summary>
    /// One iteration on prompts drawn by <paramref name="draw"/>; with a <paramref name="truth"/>, the statistics also say
    /// what the proxy reward cannot: the rollouts' scores by the truth (never read by the learner or any choice of settings).
    /// </summary>
    public static PpoIterationStats Iterate<TPrompt>(PpoLearner learner, IPromptTokenizer<TPrompt> tokenizer, RunConfig config, Func<Random, TPrompt> draw,
        Func<IReadOnlyList<TPrompt>, IReadOnlyList<string>, SortedDictionary<string, double>>? truth = null)
    {
        var prompts = Prompts(config, learner.Iteration, draw);
        var stats = learner.Step(prompts.Select(tokenizer.EncodePrompt).ToList());
        return truth is null ? stats : stats with { Truth = truth(prompts, [.. learner.LastResponses.Select(tokenizer.Decode)]) };
    }

    /// <summary>A whole arm in one go (the in-process run, an experiment): every iteration from the SFT policy, then the trained policy.</summary>
    public static (PolicyModel Policy, List<PpoIterationStats> Stats) Train(WorldRun ctx, PolicyModel sft, IRewardModel reward, CancellationToken cancel = default)
    {
        var policy = NewPolicy(sft, ctx.Config.Ppo);
        using var learner = NewLearner(ctx, policy, reward);
        var stats = new List<PpoIterationStats>();
        while (learner.Iteration < ctx.Config.Ppo.Iterations)
        {
            cancel.ThrowIfCancellationRequested();
            stats.Add(Iterate(ctx, learner));
        }
        return (policy.Take(), stats);
    }

    /// <summary>One iteration of the world's PPO on fresh prompts, with each principle's ground-truth score and the true preference of its rollouts.</summary>
    public static PpoIterationStats Iterate(WorldRun ctx, PpoLearner learner) =>
        Iterate(learner, ctx, ctx.Config, rng => World.Prompts.Sample(rng), (prompts, responses) =>
        {
            var parsed = prompts.Select((p, i) => (p, r: ParsedResponse.Parse(p, responses[i]))).ToList();
            var truth = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var q in GroundTruth.Principles.Select(x => x.Name).Append(Principle.Overall))
                truth[q] = parsed.Average(x => GroundTruth.Score(q, x.p, x.r));
            return truth;
        });

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
