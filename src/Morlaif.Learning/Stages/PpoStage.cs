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
        if (checkpoint is null) return learner;
        try
        {
            learner.LoadCheckpoint(checkpoint);
            return learner;
        }
        catch
        {
            learner.Dispose();
            throw;
        }
    }

    /// <summary>Progress inside a chunk, as its stage checkpoint: the statistics of the iterations done, then the learner.</summary>
    public static byte[] SaveProgress(PpoLearner learner, IReadOnlyList<PpoIterationStats> stats)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var json = StatsToJson(stats);
            w.Write(json.Length);
            w.Write(json);
        }
        learner.SaveCheckpoint(ms);
        return ms.ToArray();
    }

    /// <summary>Reads what <see cref="SaveProgress"/> wrote back into a learner.</summary>
    public static (PpoLearner Learner, List<PpoIterationStats> Stats) LoadProgress(RunContext ctx, PolicyModel sft, IRewardModel reward, byte[] progress)
    {
        using var ms = new MemoryStream(progress, writable: false);
        using var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true);
        var length = r.ReadInt32();
        if (length < 0 || length > ms.Length - ms.Position) throw new InvalidDataException("not a PPO chunk checkpoint");
        var stats = StatsFromJson(r.ReadBytes(length));
        return (Learner(ctx, sft, reward, ms), stats);
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

    public static List<PpoIterationStats> StatsFromJson(byte[] json)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<List<PpoIterationStats>>(json, Runs.RunConfig.Json)
                   ?? throw new InvalidDataException("PPO statistics are empty");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"PPO statistics are not readable: {e.Message}", e);
        }
    }
}
