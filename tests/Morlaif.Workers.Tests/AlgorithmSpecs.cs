using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.Runs;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;
using TorchSharp;

namespace Morlaif.Workers.Tests;

/// <summary>
/// GRPO and RLOO through the same workers, chunks and checkpoints as PPO: a tiny world run whose MORLAIF arm is GRPO
/// (each principle's reward standardised within its group, the judge watching it) and whose baseline is RLOO.
/// </summary>
[Trait("Category", "Slow")]
public class AlgorithmSpecs
{
    private static RunConfig Config()
    {
        var tiny = TinyRun.Config(seed: 6);
        PpoSettings Arm(string algorithm) => tiny.Ppo with { Algorithm = algorithm, GroupSize = 4 };
        return tiny with
        {
            Arms =
            [
                new() { Name = "morlaif", Ppo = Arm(RlAlgorithm.Grpo) with { RewardNormalization = RewardNormalization.Group, Monitor = new() { Enabled = true, Every = 2, Prompts = 12 } } },
                new() { Name = "baseline", Reward = "baseline", Ppo = Arm(RlAlgorithm.Rloo) },
            ],
        };
    }

    [Fact]
    public async Task Critic_free_arms_complete_in_checkpointed_chunks_with_the_numbers_of_one_uninterrupted_process()
    {
        var config = Config();
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var runId = await pipeline.StartRunAsync(config);
        var m = await pipeline.WaitAsync(runId);
        Assert.True(m.State == RunState.Completed, $"{m.State}: {m.Error}");
        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));

        // Four iterations in chunks of 2 went through storage; the numbers are those of one process that never stopped
        // (the monitor's checks aside: only the pipeline runs them, and they do not touch the learner's random numbers).
        var direct = new ReferenceRun(config, torch.CPU).Execute("direct");
        static string Json(IReadOnlyDictionary<string, IReadOnlyList<PpoIterationStats>> ppo) =>
            System.Text.Json.JsonSerializer.Serialize(ppo.ToDictionary(kv => kv.Key, kv => kv.Value.Select(s => s with { Monitor = null }).ToList()), RunConfig.Json);
        Assert.Equal(Json(direct.Ppo), Json(report.Ppo));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(direct.Evaluation, RunConfig.Json), System.Text.Json.JsonSerializer.Serialize(report.Evaluation, RunConfig.Json));

        foreach (var (arm, stats) in report.Ppo)
        {
            Assert.Equal(4, stats.Count);
            // No value head: nothing for its statistics to say; the other diagnostics as PPO's.
            Assert.All(stats, s => Assert.True(double.IsNaN(s.ValueLoss) && double.IsNaN(s.ExplainedVariance) && s.ApproxKl >= 0 && s.Entropy > 0 && s.Truth is not null, $"{arm}: {s}"));
            Assert.NotNull(stats[^1].PrincipleRewards);
        }
        Assert.Equal(["conciseness", "helpfulness"], report.Ppo["morlaif"][0].PrincipleRewards!.Keys.Order());
        Assert.Equal(["constitution"], report.Ppo["baseline"][0].PrincipleRewards!.Keys);

        // The judge watched the GRPO arm after iterations 2 and 4, per principle, on all 12 prompts; not the baseline.
        var checks = report.Ppo["morlaif"].Where(s => s.Monitor is not null).ToList();
        Assert.Equal([2, 4], checks.Select(s => s.Iteration));
        Assert.All(checks, c => Assert.Equal(["conciseness", "helpfulness"], c.Monitor!.Keys.Order()));
        Assert.All(checks.SelectMany(c => c.Monitor!.Values), v => Assert.True(v.Prompts == 12 && v.JudgePrefersPolicy is >= 0 and <= 1 && v.Decided <= 12, v.ToString()));
        Assert.DoesNotContain(report.Ppo["baseline"], s => s.Monitor is not null);
        var monitor = Assert.Single(report.Monitor!);
        Assert.Equal("morlaif", monitor.Key);
        Assert.Equal(2, monitor.Value.Checks);

        var markdown = System.Text.Encoding.UTF8.GetString(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.ReportMarkdown]));
        Assert.Contains("| morlaif (grpo) | 1 |", markdown);
        Assert.Contains("| baseline (rloo) | 4 |", markdown);
        Assert.Contains("## The judge watching the policy", markdown);
        // Each arm's PMs' rewards, first and last iteration.
        Assert.Contains("| morlaif (grpo) | helpfulness |", markdown);
        Assert.Contains("| baseline (rloo) | constitution |", markdown);
        Assert.Contains("principle-rewards.png", markdown);
        var chart = await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs["chart-principle-rewards"]);
        // One panel per arm, one curve per PM: the first two colours of the palette draw helpfulness and conciseness.
        var palette = new ScottPlot.Palettes.Category10();
        PngChart.AssertShows(chart, Evaluator.ReportCharts.Width, 2 * Evaluator.ReportCharts.PanelHeight, [palette.GetColor(0), palette.GetColor(1)], minPixels: 20);
    }
}
