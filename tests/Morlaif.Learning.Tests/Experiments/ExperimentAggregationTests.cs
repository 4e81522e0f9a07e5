using Morlaif.Learning.Experiments;

namespace Morlaif.Learning.Tests.Experiments;

/// <summary>The experiment's aggregation on fixed inputs, against intervals and p-values worked out by hand.</summary>
public class ExperimentAggregationTests
{
    [Fact]
    public void Two_seeds_that_disagree_give_an_interval_spanning_both()
    {
        // Seed 1 wins both its prompts, seed 2 loses both. Each resample draws two seeds (prompts within a seed are alike),
        // so the net is +1, 0 or -1 with probabilities 1/4, 1/2, 1/4: its 95% interval is [-1, 1], the win share's [0, 1].
        var c = ExperimentReport.Paired("linear", "baseline", [[[1], [1]], [[-1], [-1]]]);
        Assert.Equal((2, 4, 1, 1), (c.Seeds, c.Prompts, c.SeedsAhead, c.SeedsBehind));
        Assert.Equal((0.0, -1.0, 1.0), (c.Net.Estimate, c.Net.Low, c.Net.High));
        Assert.Equal((0.5, 0.0, 1.0), (c.Win.Estimate, c.Win.Low, c.Win.High));
        Assert.Equal((0.0, 0.0, 0.0), (c.Tie.Estimate, c.Tie.Low, c.Tie.High));
        Assert.Equal(1.0, c.SignTestP);
    }

    [Fact]
    public void Ten_seeds_all_ahead_are_significant_by_the_sign_test()
    {
        // 2 / 2^10 = 0.001953125, whatever the sizes of the leads.
        var c = ExperimentReport.Paired("linear", "baseline", [.. Enumerable.Range(0, 10).Select(s => (IReadOnlyList<int[]>)[[1], [1], [s % 2 == 0 ? 0 : -1]])]);
        Assert.Equal(10, c.SeedsAhead);
        Assert.Equal(2.0 / 1024, c.SignTestP, 12);
        Assert.True(c.Net.Low > 0);
    }

    [Fact]
    public void A_prompts_samples_count_once_as_their_mean()
    {
        // One seed, two prompts of two samples: prompt 1 won twice (net 1, win 1), prompt 2 lost once and tied once (net
        // -0.5, win 0, tie 0.5). Resampling the two prompts gives a net of 1, 0.25 or -0.5 with probabilities 1/4, 1/2,
        // 1/4: the interval is [-0.5, 1] around 0.25. Counting the four samples as four prompts would give other bounds.
        var c = ExperimentReport.Paired("linear", "baseline", [[[1, 1], [-1, 0]]]);
        Assert.Equal((1, 2, 1, 0), (c.Seeds, c.Prompts, c.SeedsAhead, c.SeedsBehind));
        Assert.Equal((0.25, -0.5, 1.0), (c.Net.Estimate, c.Net.Low, c.Net.High));
        Assert.Equal((0.5, 0.0, 1.0), (c.Win.Estimate, c.Win.Low, c.Win.High));
        Assert.Equal(0.25, c.Tie.Estimate, 12);
    }

    [Fact]
    public void A_budget_point_pairs_the_objectives_on_the_same_pairs()
    {
        // Seed 1: linear right on both pairs, the single PM on neither; seed 2: both right on both. The difference per
        // pair is 1, 1 and 0, 0: seeds resampled give 1, 0.5 or 0, so the interval is [0, 1] around 0.5. McNemar: 2
        // pairs only linear got right, none only the single PM: 2 * (1/2)^2 = 0.5.
        FitResult Fit(long seed, string linear, string single) => new(seed, 100, "constitution",
            new Dictionary<string, double>(), new Dictionary<string, string> { ["linear"] = linear, ["single"] = single }, [], new Dictionary<string, Morlaif.Learning.Runs.PreferenceModelStats>(),
            new Dictionary<string, double>(), 0);
        var b = ExperimentReport.Budget(100, [Fit(1, "11", "00"), Fit(2, "11", "11")])!;
        Assert.Equal((2, 4, 2, 0), (b.Seeds, b.Pairs, b.OnlyLinearRight, b.OnlySingleRight));
        Assert.Equal((0.5, 0.0, 1.0), (b.Difference.Estimate, b.Difference.Low, b.Difference.High));
        Assert.Equal((1.0, 1.0, 1.0), (b.Linear.Estimate, b.Linear.Low, b.Linear.High));
        Assert.Equal(0.5, b.Single.Estimate, 12);
        Assert.Equal(0.5, b.McNemarP, 12);
        Assert.Null(b.Control);
        Assert.Null(ExperimentReport.Budget(100, []));

        // The control PM on the same pairs: seed 1 right on pair 2 only, seed 2 on pair 1 only. Linear alone is right on
        // seed 1's pair 1 and seed 2's pair 2, the control never alone: McNemar 0.5 again; the control's accuracy 0.5.
        ControlResult Control(long seed, string correct) => new(seed, 100, "constitution", 0, correct, new(0, 0, 0, 0, 1), 0);
        var c = ExperimentReport.Budget(100, [Fit(1, "11", "00"), Fit(2, "11", "11")], [Control(1, "01"), Control(2, "10")])!;
        Assert.Equal((2, 0), (c.OnlyLinearRightVsControl, c.OnlyControlRight));
        Assert.Equal(0.5, c.Control!.Estimate, 12);
        Assert.Equal(0.5, c.ControlDifference!.Estimate, 12);
        Assert.Equal(0.5, c.McNemarControlP!.Value, 12);
    }

    [Fact]
    public void Ppo_settings_are_chosen_by_proxy_rank_within_the_kl_target()
    {
        // "hot" has the best proxy in both arms but one arm ends past the KL target: out. Of the rest, "b" ranks first in
        // the baseline arm and second in linear (mean rank 0.5), "a" second and first (0.5): a tie, to the first name;
        // "c" is last in both. The proxy scales differ between arms, which ranks ignore.
        PpoSettingsRow Row(string settings, string arm, double proxy, double kl) => new(settings, arm, 2, proxy, 0, kl, 0, 0);
        List<PpoSettingsRow> rows =
        [
            Row("hot", "baseline", 9, 7), Row("hot", "linear", 90, 1),
            Row("a", "baseline", 2, 1), Row("a", "linear", 30, 1),
            Row("b", "baseline", 3, 1), Row("b", "linear", 20, 1),
            Row("c", "baseline", 1, 1), Row("c", "linear", 10, 1),
        ];
        Assert.Equal("a", ExperimentReport.ChoosePpoSettings(rows, klTarget: 6));
        Assert.Equal("hot", ExperimentReport.ChoosePpoSettings(rows, klTarget: 8));
        Assert.Null(ExperimentReport.ChoosePpoSettings(rows, klTarget: 0.5));
    }
}
