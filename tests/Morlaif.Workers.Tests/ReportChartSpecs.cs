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
    private static readonly ScottPlot.Color[] WinTieLoss = [ReportCharts.Win, ReportCharts.Tie, ReportCharts.Loss];

    // A legend swatch covers a few dozen pixels of its colour: the bars and the curve must cover many more.
    private const int Bars = 1000, Curve = 300;
    // The ablation is a curve of a few points, mostly white.
    private const double CurveWhite = 0.98;

    private async Task<RunReport> Report() =>
        ReportFiles.FromJson(await run.Pipeline.Store.GetAsync(run.Manifest.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));

    [Fact]
    public async Task The_evaluator_stores_each_chart_report_md_links_and_each_shows_its_data()
    {
        var outputs = run.Manifest.Stages[StageKeys.Evaluate].Outputs;
        var markdown = Encoding.UTF8.GetString(await run.Pipeline.Store.GetAsync(outputs[StageOutputs.ReportMarkdown]));
        var charts = outputs.Where(o => o.Key.StartsWith(ReportChart.OutputPrefix, StringComparison.Ordinal)).ToDictionary(o => ReportChart.FileOf(o.Key), o => o.Value);
        Assert.Equal([ReportFiles.EvaluationChart, ReportFiles.PreferenceModelChart, ReportFiles.ObjectiveChart, ReportFiles.AblationChart, ReportFiles.PpoChart,
            ReportFiles.PrincipleRewardChart], PngChart.Linked(markdown));
        Assert.Equal(PngChart.Linked(markdown).Order(), charts.Keys.Order());
        // Each chart in the section that shows its numbers.
        Assert.Matches(@"## MORLAIF policy vs single-objective baseline[^#]*\(evaluation\.png\)", markdown);
        Assert.Matches(@"## Accuracy of each combined objective[^#]*\(objectives\.png\)", markdown);
        Assert.Matches(@"## Ablation[^#]*\(ablation\.png\)", markdown);

        async Task<byte[]> Png(string file) => await run.Pipeline.Store.GetAsync(charts[file]);
        // MORLAIF vs baseline by the truth (all prompts, unseen templates) and by the judge, each arm vs SFT, and by each
        // principle's ground truth: seven comparisons, each with its win, tie and loss.
        PngChart.AssertShows(await Png(ReportFiles.EvaluationChart), ReportCharts.Width, ReportCharts.EvaluationChartHeight(7), WinTieLoss, minPixels: Bars);
        // The world's PPO: proxy reward, KL, entropy and true preference, one panel each, both arms in each.
        PngChart.AssertShows(await Png(ReportFiles.PpoChart), ReportCharts.Width, 4 * ReportCharts.PanelHeight, [First, Second]);
        // Each arm's PMs' rewards: a panel per arm, a curve per PM (MORLAIF's two principles; the baseline's one).
        PngChart.AssertShows(await Png(ReportFiles.PrincipleRewardChart), ReportCharts.Width, 2 * ReportCharts.PanelHeight, [First, Second], minPixels: 20);
        // Three PMs (two principles and the constitution), accuracy against the judge and against the truth.
        PngChart.AssertShows(await Png(ReportFiles.PreferenceModelChart), ReportCharts.Width, ReportCharts.BarChartHeight(3), [First, Second]);
        // Seven scalarization functions of the principle PMs and the single PM, a colour for each kind.
        PngChart.AssertShows(await Png(ReportFiles.ObjectiveChart), ReportCharts.Width, ReportCharts.BarChartHeight(8), [First, Second], minPixels: Bars);
        PngChart.AssertShows(await Png(ReportFiles.AblationChart), ReportCharts.Width, ReportCharts.AblationHeight, [First], minPixels: Curve, maxWhite: CurveWhite);
        Assert.Contains("decided by the noise-free true preference", ReportCharts.AccuracyOn(await Report()));
    }

    [Fact]
    public async Task Without_a_truth_the_charts_show_what_the_run_measured()
    {
        // The same report as a text run has it: no world, no true preference per iteration, no ground-truth accuracy,
        // the policies compared by the judge alone.
        var world = await Report();
        var text = world with
        {
            World = null,
            Ppo = world.Ppo.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<PpoIterationStats>)[.. kv.Value.Select(s => s with { Truth = null })]),
            PreferenceModels = world.PreferenceModels.ToDictionary(kv => kv.Key, kv => kv.Value with { GroundTruthAccuracy = null }),
            Evaluation = world.Evaluation! with
            {
                VsBaseline = null, UnseenVsBaseline = null, MorlaifVsSft = null, BaselineVsSft = null, PerPrinciple = null, MeanTrueScore = null, MeanPrincipleScores = null,
            },
        };
        var charts = ReportCharts.Render(text).ToDictionary(c => c.File);
        Assert.Equal([ReportFiles.EvaluationChart, ReportFiles.PreferenceModelChart, ReportFiles.ObjectiveChart, ReportFiles.AblationChart, ReportFiles.PpoChart,
            ReportFiles.PrincipleRewardChart], charts.Keys);
        Assert.Equal(charts.Keys, PngChart.Linked(ReportFiles.ToMarkdown(text, charts.Keys)));
        PngChart.AssertShows(charts[ReportFiles.EvaluationChart].Png, ReportCharts.Width, ReportCharts.EvaluationChartHeight(1), WinTieLoss, minPixels: Bars); // the judge's comparison only
        PngChart.AssertShows(charts[ReportFiles.PpoChart].Png, ReportCharts.Width, 3 * ReportCharts.PanelHeight, [First, Second]);
        PngChart.AssertShows(charts[ReportFiles.PreferenceModelChart].Png, ReportCharts.Width, ReportCharts.BarChartHeight(3), [First], absent: [Second]);
        PngChart.AssertShows(charts[ReportFiles.ObjectiveChart].Png, ReportCharts.Width, ReportCharts.BarChartHeight(8), [First, Second], minPixels: Bars);
        PngChart.AssertShows(charts[ReportFiles.AblationChart].Png, ReportCharts.Width, ReportCharts.AblationHeight, [First], minPixels: Curve, maxWhite: CurveWhite);
        Assert.Equal($"accuracy on {world.AccuracyMeasuredOn} held-out human-labelled pairs", ReportCharts.AccuracyOn(text));
    }

    [Fact]
    public async Task A_chart_is_drawn_and_linked_only_where_the_report_has_its_data()
    {
        var world = await Report();
        string[] Files(RunReport r) => [.. ReportCharts.Render(r).Select(c => c.File)];

        // No policies (arms: []): no comparison, no PPO.
        var noPolicies = world with { Evaluation = null, Ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>() };
        Assert.Equal([ReportFiles.PreferenceModelChart, ReportFiles.ObjectiveChart, ReportFiles.AblationChart], Files(noPolicies));
        Assert.Equal(Files(noPolicies), PngChart.Linked(ReportFiles.ToMarkdown(noPolicies, Files(noPolicies))));
        Assert.DoesNotContain(ReportFiles.EvaluationChart, Files(world with { Evaluation = null }));

        // No objective measured, no ablation: neither chart.
        var noObjectives = world with { ObjectiveAccuracy = new Dictionary<string, double>(), Ablation = [] };
        Assert.Equal([ReportFiles.EvaluationChart, ReportFiles.PreferenceModelChart, ReportFiles.PpoChart, ReportFiles.PrincipleRewardChart], Files(noObjectives));
        // Statistics from before each PM's reward was recorded: no chart of them.
        var older = world with { Ppo = world.Ppo.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<PpoIterationStats>)[.. kv.Value.Select(s => s with { PrincipleRewards = null })]) };
        Assert.DoesNotContain(ReportFiles.PrincipleRewardChart, Files(older));
        Assert.Equal(Files(noObjectives), PngChart.Linked(ReportFiles.ToMarkdown(noObjectives, Files(noObjectives))));

        // report.md links only the charts written beside it, even where the report has the data.
        Assert.Equal([ReportFiles.PreferenceModelChart], PngChart.Linked(ReportFiles.ToMarkdown(world, [ReportFiles.PreferenceModelChart])));

        // One principle is no ablation: a single point, no curve.
        Assert.DoesNotContain(ReportFiles.AblationChart, Files(world with { Ablation = [world.Ablation[^1]] }));
    }
}
