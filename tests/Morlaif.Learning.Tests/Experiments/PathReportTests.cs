using Morlaif.Learning.Experiments;
using Morlaif.Learning.Stages;

namespace Morlaif.Learning.Tests.Experiments;

/// <summary>The optimisation path's aggregation on fixed inputs, against values worked out by hand.</summary>
public class PathReportTests
{
    /// <summary>One prompt, one sample: the SFT policy's answer scores <paramref name="sft"/>; the arm's path is given.</summary>
    private static (PolicyResult Arm, PolicyResult Sft) Seed(double sft, params (int Iteration, double Kl, double Truth)[] path)
    {
        var sftResult = new PolicyResult(1, 100, "constitution", EvaluationStage.Sft, [sft], [], 0);
        var arm = new PolicyResult(1, 100, "constitution", "linear", [path[^1].Truth], [], 0)
        {
            Path = [.. path.Select(p => new PathPoint(p.Iteration, p.Kl, [p.Truth]))],
        };
        return (arm, sftResult);
    }

    [Fact]
    public void A_seeds_path_starts_at_the_sft_policy_and_is_read_linearly_between_points()
    {
        var (arm, sft) = Seed(0.1, (10, 2, 0.5), (20, 4, 0.3));
        var path = PathReport.SeedPath(arm, sft)!;
        Assert.Equal([(0, 0.0, 0.1, 0.0), (10, 2.0, 0.5, 0.4), (20, 4.0, 0.3, 0.2)], path.Select(p => (p.Iteration, p.Kl, p.Truth, Math.Round(p.VsSft, 12))));
        Assert.Equal(0.3, PathReport.TruthAt(path, 1)!.Value, 12); // halfway from (0, 0.1) to (2, 0.5)
        Assert.Equal(0.4, PathReport.TruthAt(path, 3)!.Value, 12); // halfway from (2, 0.5) to (4, 0.3)
        Assert.Null(PathReport.TruthAt(path, 6)); // never reached
        Assert.Null(PathReport.SeedPath(arm with { Path = null }, sft));
    }

    [Fact]
    public void Arms_are_compared_at_the_same_kl_seed_by_seed_and_a_kl_one_never_reached_is_counted()
    {
        // Seed 1: X reaches KL 2 with 0.5, Y with 0.2 (+0.3); seed 2: X 0.4, Y 0.3 (+0.1); seed 3: Y stops at KL 1.
        var s1 = (Seed(0, (10, 2, 0.5)).Arm, Seed(0, (10, 2, 0.2)).Arm, Seed(0, (10, 2, 0.5)).Sft);
        var s2 = (Seed(0, (10, 4, 0.8)).Arm, Seed(0, (10, 2, 0.3)).Arm, Seed(0, (10, 4, 0.8)).Sft);
        var s3 = (Seed(0, (10, 4, 0.8)).Arm, Seed(0, (10, 1, 0.3)).Arm, Seed(0, (10, 4, 0.8)).Sft);
        var c = PathReport.AtKl("linear", "baseline", 2, [s1, s2, s3])!;
        Assert.Equal((2, 1), (c.Seeds, c.NotReached));
        Assert.Equal(0.2, c.Difference.Estimate, 12);
        // Differences 0.3 and 0.1: sd 0.1414, t(1) 12.706: 0.2 +- 1.2706.
        Assert.Equal(0.2 - 12.706205 * 0.1, c.Difference.Low, 4);
        Assert.Equal("inconclusive", c.Verdict);
    }

    [Fact]
    public void An_arms_path_over_seeds_has_a_point_per_iteration_and_its_peak()
    {
        var path = PathReport.Summarise("linear", [Seed(0.1, (10, 2, 0.5), (20, 4, 0.3)), Seed(0.1, (10, 3, 0.7), (20, 5, 0.3))])!;
        Assert.Equal([0, 10, 20], path.Points.Select(p => p.Iteration));
        Assert.Equal(2.5, path.Points[1].Kl, 12);
        Assert.Equal(0.6, path.Points[1].Truth.Estimate, 12);
        Assert.Equal(0.5, path.Points[1].VsSft.Estimate, 12);
        Assert.Equal(10, path.Peak.Iteration);
        // Each seed's last point minus its point at the peak iteration: 0.3 - 0.5 and 0.3 - 0.7, mean -0.3, sd 0.1414, t(1).
        Assert.Equal(-0.3, path.FinalVsPeak.Estimate, 12);
        Assert.Equal(-0.3 + 12.706205 * 0.1, path.FinalVsPeak.High, 4);
        Assert.Equal("holds its peak, ends above SFT", path.Verdict); // t(1) is too wide for the fall; both seeds end 0.2 above SFT exactly

        // Five seeds that rise by 0.4 over SFT and end 0.1 above it, each a little differently: a clear fall, still above SFT.
        var five = PathReport.Summarise("baseline", [.. Enumerable.Range(0, 5).Select(i => Seed(0.1, (10, 2, 0.5 + 0.01 * i), (20, 4, 0.2 + 0.01 * i)))])!;
        Assert.Equal("falls from its peak, ends above SFT", five.Verdict);
    }
}
