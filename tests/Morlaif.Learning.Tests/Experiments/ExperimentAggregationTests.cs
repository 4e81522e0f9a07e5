using Morlaif.Learning.Experiments;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;

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
        // By seed: nets +1 and -1, mean 0, sd sqrt(2), t(1) = 12.706: 0 +- 12.706, so the verdict is inconclusive.
        Assert.Equal(0.0, c.NetBySeed!.Estimate, 12);
        Assert.Equal(12.7062, c.NetBySeed.High, 3);
        Assert.Equal("inconclusive", c.Verdict);
    }

    [Fact]
    public void Ten_seeds_all_ahead_are_significant_by_the_sign_test()
    {
        // 2 / 2^10 = 0.001953125, whatever the sizes of the leads.
        var c = ExperimentReport.Paired("linear", "baseline", [.. Enumerable.Range(0, 10).Select(s => (IReadOnlyList<int[]>)[[1], [1], [s % 2 == 0 ? 0 : -1]])]);
        Assert.Equal(10, c.SeedsAhead);
        Assert.Equal(2.0 / 1024, c.SignTestP, 12);
        Assert.True(c.Net.Low > 0);
        // By seed: nets 2/3 and 1/3 alternately, mean 0.5, sd 0.1757 over 10 seeds: 0.5 +- 2.2622 x 0.1757 / sqrt(10).
        var sd = Math.Sqrt(10 * (1 / 6.0) * (1 / 6.0) / 9);
        Assert.Equal(0.5 - 2.262157 * sd / Math.Sqrt(10), c.NetBySeed!.Low, 5);
        Assert.Equal("ahead", c.Verdict);
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
        // By seed: differences 1 and 0: 0.5 +- 12.706 x 0.7071 / sqrt(2) = 0.5 +- 6.353.
        Assert.Equal(0.5 + 12.706205 * 0.5, b.DifferenceBySeed!.High, 4);
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
        Assert.Empty(c.Matched);

        // The matched-budget baselines, where every seed measured them, the same way: the ensemble right where linear is on
        // seed 1 and on one pair of seed 2; the pooled PM measured on one seed only is left out.
        FitResult Matched(long seed, string ensemble, string? pooled = null)
        {
            var correct = new Dictionary<string, string> { ["linear"] = "11", ["single"] = "00", ["baseline-ensemble"] = ensemble };
            if (pooled is not null) correct["baseline-pooled"] = pooled;
            return Fit(seed, "11", "00") with { Correct = correct };
        }
        var m = Assert.Single(ExperimentReport.Budget(100, [Matched(1, "11", "00"), Matched(2, "01")])!.Matched);
        Assert.Equal(("baseline-ensemble", 1, 0), (m.Arm, m.OnlyLinearRight, m.OnlyBaselineRight));
        Assert.Equal((0.75, 0.25), (m.Accuracy.Estimate, m.LinearMinus.Estimate));
        // By seed: differences 0 and 0.5.
        Assert.Equal(0.25, m.LinearMinusBySeed!.Estimate, 12);
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
        Assert.Equal(new Dictionary<string, string> { ["ppo"] = "a" }, ExperimentReport.ChoosePpoSettings(rows, klTarget: 6));
        // Each arm alone: the baseline's "hot" ends past the target, so "b", its best within it; linear's "hot" is within it.
        Assert.Equal(new Dictionary<string, string> { ["baseline"] = "b", ["linear"] = "hot" }, ExperimentReport.ChoosePpoSettingsPerArm(rows, klTarget: 6));
        Assert.Empty(ExperimentReport.OutsideKlTarget(rows, klTarget: 6));
        // With a target no baseline setting meets (KL 1 everywhere but "hot"'s 7 > 0.5), the baseline takes its lowest KL: "a" (ties by name).
        Assert.Equal(new Dictionary<string, string> { ["baseline"] = "a", ["linear"] = "a" }, ExperimentReport.ChoosePpoSettingsPerArm(rows, klTarget: 0.5));
        Assert.Equal(["baseline", "linear"], ExperimentReport.OutsideKlTarget(rows, klTarget: 0.5));
        Assert.Equal(new Dictionary<string, string> { ["ppo"] = "hot" }, ExperimentReport.ChoosePpoSettings(rows, klTarget: 8));
        Assert.Empty(ExperimentReport.ChoosePpoSettings(rows, klTarget: 0.5));
    }

    [Fact]
    public void Ppo_settings_are_chosen_within_each_algorithm()
    {
        // The same settings under PPO and GRPO. Under PPO "a" leads both arms; under GRPO "a" ends past the KL target, so
        // "b" is GRPO's, although PPO's "a" has a lower proxy than GRPO's "b" (each algorithm gets its own choice). Every
        // RLOO setting ends past the target: RLOO has none.
        PpoSettingsRow Row(string settings, string algorithm, string arm, double proxy, double kl) => new(settings, arm, 2, proxy, 0, kl, 0, 0, algorithm);
        List<PpoSettingsRow> rows =
        [
            Row("a", "grpo", "baseline", 9, 7), Row("a", "grpo", "linear", 90, 1),
            Row("b", "grpo", "baseline", 5, 1), Row("b", "grpo", "linear", 50, 1),
            Row("a", "ppo", "baseline", 2, 1), Row("a", "ppo", "linear", 20, 1),
            Row("b", "ppo", "baseline", 1, 1), Row("b", "ppo", "linear", 10, 1),
            Row("a", "rloo", "baseline", 9, 9), Row("a", "rloo", "linear", 9, 9),
        ];
        var chosen = ExperimentReport.ChoosePpoSettings(rows, klTarget: 6);
        Assert.Equal([("ppo", "a"), ("grpo", "b")], chosen.Select(kv => (kv.Key, kv.Value)));

        var md = ExperimentMarkdown.Render(Empty() with { PpoSettings = rows, PpoSettingsChosen = chosen });
        Assert.Contains("Chosen: `a` (ppo), `b` (grpo), `none` (rloo).", md);
        Assert.Contains("| b | grpo | linear | 2 | 50.000 |", md);
        // One algorithm: just the name.
        Assert.Contains("Chosen: `a`.", ExperimentMarkdown.Render(Empty() with { PpoSettings = rows[4..8], PpoSettingsChosen = chosen }));
    }

    private static PpoIterationStats Iteration(int i, double proxy, double kl, double tokens, double truth) =>
        new(i, proxy, kl, 0.05, 0, 0, tokens, Truth: new Dictionary<string, double> { [RewardHackingCheck.TruthKey] = truth });

    [Fact]
    public void An_algorithms_arm_is_compared_with_the_sft_policy_of_its_own_seeds()
    {
        // Seed 1: 16 rollouts of 10, 12 and 14 tokens (576 tokens); the proxy rises as the truth of the rollouts falls:
        // flagged. Seed 2: 480 tokens, the truth rises: not flagged. Final proxy: the mean of the (at most five) last
        // iterations; final KL: the last iteration's.
        PolicyResult Arm(long seed, double[] truth, double seconds, params PpoIterationStats[] ppo) => new(seed, 100, "constitution", "linear@grpo", truth, ppo, seconds);
        PolicyResult Sft(long seed, double[] truth) => new(seed, 100, "constitution", "sft", truth, [], 0);
        var row = ExperimentReport.Algorithm("grpo", "linear", null, rolloutsPerIteration: 16,
        [
            (Arm(1, [0.6, 0.8], 30, Iteration(1, 0, 1, 10, 0.5), Iteration(2, 1, 1.5, 12, 0.4), Iteration(3, 2, 2, 14, 0.2)), Sft(1, [0.5, 0.5])),
            (Arm(2, [0.4, 0.4], 50, Iteration(1, 0, 1, 10, 0.5), Iteration(2, 0.5, 3, 10, 0.5), Iteration(3, 1, 4, 10, 0.6)), Sft(2, [0.5, 0.3])),
        ]);
        Assert.Equal(("grpo", "linear", (string?)null, 100, "constitution", 2), (row.Algorithm, row.Arm, row.Settings, row.Budget, row.Baseline, row.Seeds));
        Assert.Equal((40.0, 528.0, 0.75, 3.0), (row.Seconds, row.GeneratedTokens, row.FinalProxy, row.FinalKl));
        Assert.Equal((1, 2), (row.Flagged, row.Checked));
        // Per prompt against SFT: +0.1, +0.3 on seed 1 and -0.1, +0.1 on seed 2. Resampled, the mean stays within the
        // smallest and largest of them.
        Assert.Equal(0.55, row.TruePreference.Estimate, 12);
        Assert.Equal(0.1, row.VsSft.Estimate, 12);
        Assert.InRange(row.VsSft.Low, -0.1 - 1e-12, 0.1);
        Assert.InRange(row.VsSft.High, 0.1, 0.3 + 1e-12);

        Assert.Equal(0, row.Watched); // nobody watched these arms

        // Where the judge watched: seed 1's judge preference fell from its peak while the PM's margin rose (flagged, as the
        // truth-based check flags it: they agree); seed 2's rose (not flagged, nor by the truth: they agree again).
        static MonitorVerdict V(double judge, double margin) => new(judge, 0.5, 0.5, margin, 40, 40);
        PpoIterationStats Watched(PpoIterationStats s, double judge, double margin) => s with { Monitor = new Dictionary<string, MonitorVerdict> { ["helpfulness"] = V(judge, margin) } };
        var watched = ExperimentReport.Algorithm("grpo", "linear", null, 16,
        [
            (Arm(1, [0.6, 0.8], 30, Watched(Iteration(1, 0, 1, 10, 0.5), 0.9, 0.1), Watched(Iteration(2, 1, 1.5, 12, 0.4), 0.6, 0.5), Watched(Iteration(3, 2, 2, 14, 0.2), 0.2, 0.9)), Sft(1, [0.5, 0.5])),
            (Arm(2, [0.4, 0.4], 50, Watched(Iteration(1, 0, 1, 10, 0.5), 0.5, 0.1), Watched(Iteration(2, 0.5, 3, 10, 0.5), 0.6, 0.2), Watched(Iteration(3, 1, 4, 10, 0.6), 0.7, 0.3)), Sft(2, [0.5, 0.3])),
        ]);
        Assert.Equal((1, 2, 2), (watched.MonitorFlagged, watched.MonitorAgrees, watched.Watched));
        Assert.Contains("| 1 / 2 | 2 / 2 |", ExperimentMarkdown.Render(Empty() with { Algorithms = [watched] }));

        // Samples of a prompt count once, as their mean: two samples of one prompt give one outcome per seed.
        var sampled = ExperimentReport.Algorithm("grpo", "linear", null, 16,
            [(Arm(1, [0.6, 0.8], 30, Iteration(1, 0, 1, 10, 0.5)) with { Samples = 2 }, Sft(1, [0.5, 0.5]) with { Samples = 2 })]);
        Assert.All(new[] { sampled.VsSft.Estimate, sampled.VsSft.Low, sampled.VsSft.High }, v => Assert.Equal(0.2, v, 12));
    }

    [Fact]
    public void A_grid_of_algorithms_is_reported_per_algorithm_and_arm_from_the_cells_files()
    {
        var root = Directory.CreateTempSubdirectory("morlaif-experiment-").FullName;
        var experiment = new ExperimentConfig
        {
            Grids =
            [
                new() { Seeds = [1, 2], Algorithms = ["ppo", "grpo"] },
                new() { Seeds = [1], Algorithms = ["ppo", "grpo"], Ppo = new() { ["slow"] = new() { ["learningRate"] = 5e-5 } } },
            ],
        };
        var run = new RunConfig();
        var cells = experiment.Cells(run);
        foreach (var cell in cells)
            foreach (var arm in cell.Arms)
            {
                var (policy, _) = ExperimentCell.ParseArm(arm);
                var truth = policy == "sft" ? 0.5 : arm.EndsWith("grpo") ? 0.7 : 0.6;
                PpoIterationStats[] ppo = policy == "sft" ? [] : [Iteration(1, 0, 1, 10, 0.5), Iteration(2, 1, 1, 10, 0.5), Iteration(3, 2, 1, 10, 0.5)];
                CellFiles.Write(new CellFiles(root, cell).PolicyPath(arm), new PolicyResult(cell.Seed, cell.Budget, cell.Baseline, arm, [truth, truth], ppo, 10));
            }
        var report = ExperimentReport.Build(experiment, run, root);

        Assert.Equal(
            [
                ("ppo", "baseline", null, 2), ("grpo", "baseline", null, 2), ("ppo", "linear", null, 2), ("grpo", "linear", null, 2),
                ("ppo", "baseline", "slow", 1), ("grpo", "baseline", "slow", 1), ("ppo", "linear", "slow", 1), ("grpo", "linear", (string?)"slow", 1),
            ],
            report.Algorithms.Select(a => (a.Algorithm, a.Arm, a.Settings, a.Seeds)));
        Assert.All(report.Algorithms, a => Assert.Equal(3 * run.Ppo.RolloutsPerIteration * 10.0, a.GeneratedTokens));
        Assert.All(report.Algorithms.Where(a => a.Algorithm == "grpo"), a => Assert.Equal(0.2, a.VsSft.Estimate, 12));
        // Only the named settings are settings to choose among, one choice per algorithm.
        Assert.Equal([("slow", "ppo", "baseline"), ("slow", "ppo", "linear"), ("slow", "grpo", "baseline"), ("slow", "grpo", "linear")],
            report.PpoSettings.Select(p => (p.Settings, p.Algorithm, p.Arm)));
        Assert.Equal(new Dictionary<string, string> { ["ppo"] = "slow", ["grpo"] = "slow" }, report.PpoSettingsChosen);

        var md = ExperimentMarkdown.Render(report);
        Assert.Contains("## RL algorithms at a matched number of generated tokens", md);
        Assert.Contains($"| grpo | linear@slow | {run.Pairs.Train} | 1 | 1,920 | 10 | 1.000 | 1.000 | 0.700 [0.700, 0.700] | 0.200 [0.200, 0.200] | one seed | 0 / 1 |", md);
        Directory.Delete(root, recursive: true);
    }

    private static ExperimentReport Empty() => new()
    {
        Run = new RunConfig(), Finding1 = null, Finding2VsBaseline = [], Finding2WinRates = new Dictionary<string, IReadOnlyDictionary<string, double>>(),
        Finding3 = [], Finding4 = [], Ppo = [], Cells = 0, ComputeSeconds = 0,
    };
}
