using System.Text.Json;
using Morlaif.Learning.Experiments;
using Morlaif.Learning.Runs;
using Morlaif.TestServers;
using Morlaif.Workers.Tests;

namespace Morlaif.Cli.Tests;

/// <summary>
/// The experiment's charts drawn from a committed paper-findings report (experiment.json), with no run: the earlier run's
/// (results-before-issue-24), whose figures are fixed, so the sizes and series below do not follow a rerun of the current one.
/// </summary>
public class ExperimentChartsTests
{
    [Fact]
    public void The_paper_findings_charts_have_their_sizes_and_draw_every_series()
    {
        var json = File.ReadAllText(Path.Combine(Processes.RepoRoot, "experiments", "paper-findings", "results-before-issue-24", "experiment.json"));
        var report = JsonSerializer.Deserialize<ExperimentReport>(json, RunConfig.Json)!;
        var dir = Directory.CreateTempSubdirectory("morlaif-cli-charts-").FullName;
        var written = ExperimentCharts.Write(report, dir).ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes);
        var c = Enumerable.Range(0, 3).Select(PngChart.Palette.GetColor).ToArray();

        // Eleven policies, one row each: finding 1 on all and on unseen templates, two controls, seven scalarizers.
        PngChart.AssertShows(written["policies.png"], 1000, 120 + 36 * 11, [c[0]]);
        PngChart.AssertShows(written["budgets.png"], 1100, 500, [c[0], c[1], c[2]]); // linear, single PM, single PM + human labels
        PngChart.AssertShows(written["ablation.png"], 900, 500, [c[0]]);
        PngChart.AssertShows(written["ppo.png"], 1100, 500, [c[0], c[1], c[2]]); // baseline, baseline-human, linear
        Assert.Equal(4, written.Count);
        Directory.Delete(dir, recursive: true);
    }
}
