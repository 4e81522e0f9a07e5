using System.Text;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Workers.Evaluator;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Tests;

/// <summary>The charts of the tiny run's report: drawn by the evaluator, stored with the report, linked from report.md.</summary>
[Trait("Category", "Slow"), Collection(CompletedRunCollection.Name)]
public class ReportChartSpecs(CompletedRunFixture run)
{
    private static readonly ScottPlot.Color First = PngChart.Palette.GetColor(0), Second = PngChart.Palette.GetColor(1);

    [Fact]
    public async Task The_evaluator_stores_each_chart_report_md_links_and_each_shows_its_data()
    {
        var outputs = run.Manifest.Stages[StageKeys.Evaluate].Outputs;
        var markdown = Encoding.UTF8.GetString(await run.Pipeline.Store.GetAsync(outputs[StageOutputs.ReportMarkdown]));
        var charts = outputs.Where(o => o.Key.StartsWith(ReportChart.OutputPrefix, StringComparison.Ordinal)).ToDictionary(o => ReportChart.FileOf(o.Key), o => o.Value);
        Assert.Equal([ReportFiles.PreferenceModelChart, ReportFiles.PpoChart], PngChart.Linked(markdown));
        Assert.Equal(PngChart.Linked(markdown).Order(), charts.Keys.Order());

        // The world's PPO: proxy reward, KL, entropy and true preference, one panel each, both arms in each.
        PngChart.AssertShows(await run.Pipeline.Store.GetAsync(charts[ReportFiles.PpoChart]), ReportCharts.Width, 4 * ReportCharts.PanelHeight, [First, Second]);
        // Three PMs (two principles and the constitution), accuracy against the judge and against the truth.
        PngChart.AssertShows(await run.Pipeline.Store.GetAsync(charts[ReportFiles.PreferenceModelChart]), ReportCharts.Width, ReportCharts.BarChartHeight(3), [First, Second]);
    }

    [Fact]
    public async Task Without_a_truth_the_charts_show_what_the_run_measured()
    {
        // The same report as a text run has it: no true preference per iteration, no ground-truth accuracy.
        var world = ReportFiles.FromJson(await run.Pipeline.Store.GetAsync(run.Manifest.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));
        var text = world with
        {
            Ppo = world.Ppo.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<PpoIterationStats>)[.. kv.Value.Select(s => s with { Truth = null })]),
            PreferenceModels = world.PreferenceModels.ToDictionary(kv => kv.Key, kv => kv.Value with { GroundTruthAccuracy = null }),
        };
        var charts = ReportCharts.Render(text).ToDictionary(c => c.File);
        Assert.Equal([ReportFiles.PpoChart, ReportFiles.PreferenceModelChart], charts.Keys);
        PngChart.AssertShows(charts[ReportFiles.PpoChart].Png, ReportCharts.Width, 3 * ReportCharts.PanelHeight, [First, Second]);
        PngChart.AssertShows(charts[ReportFiles.PreferenceModelChart].Png, ReportCharts.Width, ReportCharts.BarChartHeight(3), [First], absent: [Second]);
    }
}
