namespace Morlaif.Learning.Ppo;

/// <summary>
/// The critic-free baselines, over rewards whose consecutive runs of <c>group</c> answer the same prompt: what a
/// sample did better than its siblings replaces what a value head predicted.
/// </summary>
public static class GroupAdvantages
{
    /// <summary>trl's GRPOTrainer adds this to the group's sd, so a group of equal rewards has advantage 0, not NaN.</summary>
    public const double Epsilon = 1e-4;

    /// <summary>
    /// GRPO's advantages (Shao et al. 2024, trl's GRPOTrainer with scale_rewards="group"): (r - mean) / (sd + ε) within
    /// each group, sd the sample one (torch.std's default, as trl computes it).
    /// </summary>
    public static double[] Standardized(IReadOnlyList<double> rewards, int group) => PerGroup(rewards, group, g =>
    {
        var mean = g.Average();
        var sd = Math.Sqrt(g.Sum(x => (x - mean) * (x - mean)) / (g.Count - 1));
        return [.. g.Select(x => (x - mean) / (sd + Epsilon))];
    });

    /// <summary>
    /// RLOO's advantages (Ahmadian et al. 2024, trl's RLOOTrainer): each sample's reward minus the mean of the others in
    /// its group, r_i - (Σ_j r_j - r_i) / (k - 1), an unbiased baseline since it never sees the sample it judges.
    /// </summary>
    public static double[] LeaveOneOut(IReadOnlyList<double> rewards, int group) => PerGroup(rewards, group, g =>
    {
        var sum = g.Sum();
        return [.. g.Select(x => x - (sum - x) / (g.Count - 1))];
    });

    private static double[] PerGroup(IReadOnlyList<double> rewards, int group, Func<IReadOnlyList<double>, double[]> of)
    {
        if (group < 2) throw new ArgumentOutOfRangeException(nameof(group), $"a group needs at least 2 samples (got {group})");
        if (rewards.Count % group != 0) throw new ArgumentException($"{rewards.Count} rewards do not split into groups of {group}", nameof(rewards));
        return [.. rewards.Chunk(group).SelectMany(g => of(g))];
    }
}
