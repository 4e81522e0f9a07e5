using System.Globalization;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using ScottPlot;

namespace Morlaif.Workers.Evaluator;

/// <summary>One chart of a run's report: report.md links it by <see cref="File"/>, the evaluate record stores it under <see cref="OutputKey"/>.</summary>
public sealed record ReportChart(string File, byte[] Png)
{
    /// <summary>Evaluate outputs that hold a chart: "chart-ppo" is ppo.png.</summary>
    public const string OutputPrefix = "chart-";

    public string OutputKey => OutputPrefix + Path.GetFileNameWithoutExtension(File);

    public static string FileOf(string outputKey) => outputKey[OutputPrefix.Length..] + ".png";
}

/// <summary>
/// A run's charts as PNG, drawn by the evaluator from the <see cref="RunReport"/> so that a distributed run's store holds
/// them too. Legends sit outside the data area, and measures of different scales get panels of their own.
/// </summary>
public static class ReportCharts
{
    public const int Width = 1000, PanelHeight = 220;

    /// <summary>The bar chart's height: a row per PM, and room for the title, axis and legend.</summary>
    public static int BarChartHeight(int bars) => 150 + 60 * bars;

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    // Fixed margins line up the panels' data areas; the right one holds the legend.
    private static readonly PixelPadding Margins = new(left: 80, right: 190, bottom: 45, top: 35);

    private static readonly (string Title, Func<PpoIterationStats, double> Value)[] PpoMeasures =
    [
        ("proxy reward (the arm's reward model), mean over rollouts", s => s.MeanScore),
        ("KL to the reference (SFT) policy", s => s.MeanKl),
        ("entropy of the policy", s => s.Entropy),
        ("true preference of the rollouts (the world's truth)", s => s.Truth?.GetValueOrDefault(RewardHackingCheck.TruthKey, double.NaN) ?? double.NaN),
    ];

    public static IReadOnlyList<ReportChart> Render(RunReport r)
    {
        var charts = new List<ReportChart>();
        if (r.Ppo.Values.Any(stats => stats.Count > 0)) charts.Add(Ppo(r));
        if (r.PreferenceModels.Count > 0) charts.Add(PreferenceModels(r));
        return charts;
    }

    /// <summary>One panel per measure the run has (the truth only in the world), one curve per arm over iterations.</summary>
    private static ReportChart Ppo(RunReport r)
    {
        var measures = PpoMeasures.Where(m => r.Ppo.Values.Any(stats => stats.Any(s => double.IsFinite(m.Value(s))))).ToList();
        var multiplot = new Multiplot();
        multiplot.AddPlots(measures.Count);
        var plots = multiplot.GetPlots();
        for (var i = 0; i < measures.Count; i++)
        {
            var plot = plots[i];
            foreach (var (arm, stats, color) in r.Ppo.Select((kv, a) => (kv.Key, kv.Value, Palette.GetColor(a))))
            {
                var points = stats.Where(s => double.IsFinite(measures[i].Value(s))).ToList();
                var scatter = plot.Add.Scatter(points.Select(s => (double)s.Iteration).ToArray(), points.Select(measures[i].Value).ToArray(), color);
                scatter.LegendText = arm;
                scatter.MarkerSize = points.Count > 1 ? 4 : 8;
            }
            plot.Title(measures[i].Title, 13);
            plot.XLabel(i == measures.Count - 1 ? "PPO iteration" : "", 12);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Layout.Fixed(Margins);
            plot.ShowLegend(Edge.Right);
        }
        multiplot.SharedAxes.ShareX(plots);
        var png = Png(multiplot.Render(Width, PanelHeight * measures.Count));
        foreach (var plot in plots) plot.Dispose();
        return new ReportChart(ReportFiles.PpoChart, png);
    }

    /// <summary>Each PM's held-out accuracy, against the judge's labels and, in the world, the ground truth; names on the y axis stay whole.</summary>
    private static ReportChart PreferenceModels(RunReport r)
    {
        var names = r.PreferenceModels.Keys.ToList();
        var series = new List<(string Label, Func<PreferenceModelStats, double?> Value)> { ("vs the judge's labels", s => s.HeldOutAccuracy) };
        if (r.PreferenceModels.Values.Any(s => s.GroundTruthAccuracy is not null)) series.Add(("vs the ground truth", s => s.GroundTruthAccuracy));
        using var plot = new Plot();
        var size = 0.8 / series.Count;
        for (var k = 0; k < series.Count; k++)
        {
            var bars = new List<Bar>();
            for (var i = 0; i < names.Count; i++)
                if (series[k].Value(r.PreferenceModels[names[i]]) is { } v)
                    bars.Add(new Bar { Position = i + (k - (series.Count - 1) / 2.0) * size, Value = v, Size = size, FillColor = Palette.GetColor(k), Label = v.ToString("F2", CultureInfo.InvariantCulture) });
            var plottable = plot.Add.Bars(bars);
            plottable.Horizontal = true;
            plottable.LegendText = series[k].Label;
        }
        var chance = plot.Add.VerticalLine(0.5, 1.5f, Colors.Gray, LinePattern.Dashed);
        chance.LegendText = "chance";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        plot.Axes.Left.SetTicks([.. names.Select((_, i) => (double)i)], [.. names]);
        plot.Axes.SetLimits(0, 1.08, names.Count - 0.5, -0.5); // first PM on top
        plot.Title("Preference models: held-out accuracy", 14);
        plot.XLabel("accuracy on held-out pairs", 12);
        plot.ShowLegend(Edge.Bottom);
        return new ReportChart(ReportFiles.PreferenceModelChart, Png(plot.GetImage(Width, BarChartHeight(names.Count))));
    }

    private static byte[] Png(ScottPlot.Image image)
    {
        using (image) return image.GetImageBytes(ImageFormat.Png, 100);
    }
}
