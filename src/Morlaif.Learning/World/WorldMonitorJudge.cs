using Morlaif.Learning.Ppo;

namespace Morlaif.Learning.World;

/// <summary>
/// The world's judge as the monitor asks it (<see cref="IMonitorJudge"/>): a principle's ground-truth scores of both
/// answers through the judge's bias and noise, in both orders, as it labels pairs. Its random numbers come from the
/// run, the principle and the iteration, so a resumed check asks what the uninterrupted one did.
/// </summary>
public sealed class WorldMonitorJudge(SyntheticJudge judge, IReadOnlyList<SyntheticPrompt> prompts, long seed) : IMonitorJudge
{
    public Task<IReadOnlyList<PreferenceLabel?>> JudgeAsync(string principle, int iteration, IReadOnlyList<string> policy, IReadOnlyList<string> sft, CancellationToken cancel)
    {
        var rng = new Random(Seeds.Derive(seed, "monitor-judge", principle, iteration));
        IReadOnlyList<PreferenceLabel?> labels = [.. prompts.Select((p, i) => (PreferenceLabel?)judge.Label(GroundTruth.Score(principle, p, policy[i]), GroundTruth.Score(principle, p, sft[i]), rng))];
        return Task.FromResult(labels);
    }

    /// <summary>The monitor's prompts of a run: drawn once from the training prompts' distribution, the same for every arm and check.</summary>
    public static List<SyntheticPrompt> Prompts(WorldRun ctx, int count) => World.Prompts.Sample(new Random(ctx.Seed("monitor-prompts")), count);
}
