using System.Globalization;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
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

    /// <summary>The win/tie/loss chart's height: three bars for each comparison, and room for the title, axis and legend.</summary>
    public static int EvaluationChartHeight(int comparisons) => 170 + 90 * comparisons;

    public const int AblationHeight = 450;

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>The colours of the evaluation chart's win, tie and loss bars (of the palette the other charts draw with).</summary>
    public static readonly ScottPlot.Color Win = Palette.GetColor(2), Tie = Palette.GetColor(7), Loss = Palette.GetColor(3);

    // Fixed margins line up the panels' data areas; the right one holds the legend.
    private static readonly PixelPadding Margins = new(left: 80, right: 190, bottom: 45, top: 35);

    private static readonly (string Title, Func<PpoIterationStats, double> Value)[] PpoMeasures =
    [
        ("proxy reward (the arm's reward model), mean over rollouts", s => s.MeanScore),
        ("KL to the reference (SFT) policy", s => s.MeanKl),
        ("entropy of the policy", s => s.Entropy),
        ("true preference of the rollouts (the world's truth)", s => s.Truth?.GetValueOrDefault(RewardHackingCheck.TruthKey, double.NaN) ?? double.NaN),
    ];

    /// <summary>The charts the report has data for, in report.md's order: none for the evaluation or PPO of a run without policies (arms: []).</summary>
    public static IReadOnlyList<ReportChart> Render(RunReport r)
    {
        var charts = new List<ReportChart>();
        if (r.Evaluation is { } e) charts.Add(Evaluation(e));
        if (r.PreferenceModels.Count > 0) charts.Add(PreferenceModels(r));
        if (r.ObjectiveAccuracy.Values.Any(double.IsFinite)) charts.Add(Objectives(r));
        if (r.Ablation.Count(a => double.IsFinite(a.Accuracy)) > 1) charts.Add(Ablation(r)); // a curve: one principle is no ablation
        if (r.Ppo.Values.Any(stats => stats.Count > 0)) charts.Add(Ppo(r));
        if (r.Ppo.Values.Any(stats => stats.Any(s => s.PrincipleRewards is not null))) charts.Add(PrincipleRewards(r));
        return charts;
    }

    /// <summary>One panel per measure the run has (the truth only in the world), one curve per arm over iterations.</summary>
    private static ReportChart Ppo(RunReport r)
    {
        var measures = PpoMeasures.Where(m => r.Ppo.Values.Any(stats => stats.Any(s => double.IsFinite(m.Value(s))))).ToList();
        return IterationPanels(ReportFiles.PpoChart, [.. measures.Select(m => (m.Title, (IReadOnlyList<Curve>)
            [.. r.Ppo.Select(kv => new Curve(kv.Key, [.. kv.Value.Where(s => double.IsFinite(m.Value(s))).Select(s => (s.Iteration, m.Value(s)))]))]))]);
    }

    /// <summary>One panel per arm, one curve per PM of its reward: the PM's mean reward on the rollouts over iterations (trl's rewards/NAME/mean).</summary>
    private static ReportChart PrincipleRewards(RunReport r) => IterationPanels(ReportFiles.PrincipleRewardChart,
    [
        .. r.Ppo.Where(kv => kv.Value.Any(s => s.PrincipleRewards is not null)).Select(kv => (
            $"{kv.Key}: each PM's mean reward on the rollouts (normalised by its training statistics)",
            (IReadOnlyList<Curve>)[.. kv.Value.SelectMany(s => s.PrincipleRewards?.Keys ?? []).Distinct().Select(q =>
                new Curve(q, [.. kv.Value.Where(s => s.PrincipleRewards?.ContainsKey(q) == true).Select(s => (s.Iteration, s.PrincipleRewards![q].Mean))]))])),
    ]);

    /// <summary>A named series of (iteration, value) points.</summary>
    private sealed record Curve(string Legend, IReadOnlyList<(int Iteration, double Value)> Points);

    /// <summary>Panels stacked over one shared iteration axis, each its curves in the palette's order with a legend on the right.</summary>
    private static ReportChart IterationPanels(string file, IReadOnlyList<(string Title, IReadOnlyList<Curve> Curves)> panels)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        var plots = multiplot.GetPlots();
        for (var i = 0; i < panels.Count; i++)
        {
            var plot = plots[i];
            foreach (var (curve, color) in panels[i].Curves.Select((c, n) => (c, Palette.GetColor(n))))
            {
                var scatter = plot.Add.Scatter(curve.Points.Select(p => (double)p.Iteration).ToArray(), curve.Points.Select(p => p.Value).ToArray(), color);
                scatter.LegendText = curve.Legend;
                scatter.MarkerSize = curve.Points.Count > 1 ? 4 : 8;
            }
            plot.Title(panels[i].Title, 13);
            plot.XLabel(i == panels.Count - 1 ? "PPO iteration" : "", 12);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Layout.Fixed(Margins);
            plot.ShowLegend(Edge.Right);
        }
        multiplot.SharedAxes.ShareX(plots);
        var png = Png(multiplot.Render(Width, PanelHeight * panels.Count));
        foreach (var plot in plots) plot.Dispose();
        return new ReportChart(file, png);
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

    /// <summary>
    /// The comparisons report.md's table lists, in its order: MORLAIF against the baseline by the truth (all prompts, unseen
    /// templates) and by the judge, each arm against SFT, and MORLAIF against the baseline by each principle's ground truth.
    /// </summary>
    private static IReadOnlyList<(string Label, WinTieLoss Outcome)> Comparisons(EvaluationResult e)
    {
        var rows = new List<(string, WinTieLoss)>();
        if (e.VsBaseline is { } truth) rows.Add(("MORLAIF vs baseline, true preference", truth));
        if (e.UnseenVsBaseline is { Total: > 0 } unseen) rows.Add(("MORLAIF vs baseline, true preference, unseen templates", unseen));
        rows.Add((e.JudgeAbstentions is > 0 ? "MORLAIF vs baseline, judge (both orders; abstentions as ties)" : "MORLAIF vs baseline, judge (both orders)", e.JudgeVsBaseline));
        if (e.MorlaifVsSft is { } ms) rows.Add(("MORLAIF vs SFT, true preference", ms));
        if (e.BaselineVsSft is { } bs) rows.Add(("baseline vs SFT, true preference", bs));
        foreach (var (p, w) in e.PerPrinciple ?? new Dictionary<string, WinTieLoss>()) rows.Add(($"MORLAIF vs baseline, {p}'s ground truth", w));
        return [.. rows.Select(row => ($"{row.Item1} (n = {row.Item2.Total})", row.Item2))];
    }

    /// <summary>
    /// Win, tie and loss shares of each comparison side by side, each with its 95% Wilson interval and its value after
    /// the interval, so that no label sits on a line; comparisons down the y axis, the first on top.
    /// </summary>
    private static ReportChart Evaluation(EvaluationResult e)
    {
        var rows = Comparisons(e);
        using var plot = new Plot();
        (string Name, ScottPlot.Color Color, Func<WinTieLoss, int> Count)[] outcomes = [("win", Win, w => w.Wins), ("tie", Tie, w => w.Ties), ("loss", Loss, w => w.Losses)];
        const double size = 0.26, cap = 0.07;
        var intervalColor = Colors.Black.WithAlpha(0.75);
        double Y(int row, int outcome) => row + (outcome - 1) * size;
        // The bars first, so that the intervals are drawn over them; the legend lists them in this order.
        for (var k = 0; k < outcomes.Length; k++)
        {
            var bars = rows.Select((row, i) => new Bar
            {
                Position = Y(i, k), Value = row.Outcome.Total == 0 ? 0 : 100.0 * outcomes[k].Count(row.Outcome) / row.Outcome.Total,
                Size = size * 0.92, FillColor = outcomes[k].Color, LineWidth = 0,
            }).ToList();
            var plottable = plot.Add.Bars(bars);
            plottable.Horizontal = true;
            plottable.LegendText = outcomes[k].Name;
        }
        for (var k = 0; k < outcomes.Length; k++)
            for (var i = 0; i < rows.Count; i++)
            {
                var w = rows[i].Outcome;
                var (y, count) = (Y(i, k), outcomes[k].Count(w));
                var (low, high) = w.Interval(count);
                var line = plot.Add.Line(100 * low, y, 100 * high, y);
                line.Color = intervalColor;
                line.LineWidth = 1.5f;
                if (i == 0 && k == 0) line.LegendText = "95% Wilson interval";
                foreach (var end in new[] { 100 * low, 100 * high })
                {
                    var tick = plot.Add.Line(end, y - cap, end, y + cap);
                    tick.Color = intervalColor;
                    tick.LineWidth = 1.5f;
                }
                var share = w.Total == 0 ? 0 : 100.0 * count / w.Total;
                var text = plot.Add.Text(share.ToString("F0", CultureInfo.InvariantCulture) + "%", 100 * high + 1, y);
                text.LabelFontSize = 11;
                text.LabelAlignment = Alignment.MiddleLeft;
            }
        double[] ticks = [.. Enumerable.Range(0, 11).Select(t => 10.0 * t)];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => t.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Left.SetTicks([.. rows.Select((_, i) => (double)i)], [.. rows.Select(row => row.Label)]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0; // no line through the bars
        plot.Axes.SetLimits(0, 110, rows.Count - 0.5, -0.5); // first comparison on top, room right of 100% for a value
        plot.Title("Win / tie / loss of the compared policies, with 95% intervals", 14);
        plot.XLabel("share of the answers, %", 12);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        return new ReportChart(ReportFiles.EvaluationChart, Png(plot.GetImage(Width, EvaluationChartHeight(rows.Count))));
    }

    /// <summary>The objectives chart's axis: what the accuracy was measured on, in report.md's words (the truth-decided pairs in the world, held-out human pairs otherwise).</summary>
    public static string AccuracyOn(RunReport r) => r.World is not null
        ? $"accuracy on {r.AccuracyMeasuredOn} held-out pairs decided by the noise-free true preference"
        : $"accuracy on {r.AccuracyMeasuredOn} held-out human-labelled pairs";

    /// <summary>Objectives that are one PM's score rather than the principle PMs combined.</summary>
    private static bool SinglePm(string objective) => objective == "single" || ScalarizationStage.WorldBaselineArms.Contains(objective);

    /// <summary>Each combined objective's accuracy (the principle PMs under each scalarization function) beside the single PMs', with chance at 0.5.</summary>
    private static ReportChart Objectives(RunReport r)
    {
        var names = r.ObjectiveAccuracy.Keys.ToList();
        using var plot = new Plot();
        foreach (var (single, legend, color) in new[] { (false, "principle PMs combined by the fitted weights", Palette.GetColor(0)), (true, "one PM (single: the baseline's)", Palette.GetColor(1)) })
        {
            var bars = names.Select((name, i) => (name, i)).Where(x => SinglePm(x.name) == single && double.IsFinite(r.ObjectiveAccuracy[x.name]))
                .Select(x => new Bar { Position = x.i, Value = r.ObjectiveAccuracy[x.name], Size = 0.7, FillColor = color, LineWidth = 0,
                    Label = r.ObjectiveAccuracy[x.name].ToString("F2", CultureInfo.InvariantCulture) }).ToList();
            if (bars.Count == 0) continue;
            var plottable = plot.Add.Bars(bars);
            plottable.Horizontal = true;
            plottable.LegendText = single && names.Contains(ScalarizationStage.ControlArm) ? legend.Replace(")", $"; {ScalarizationStage.ControlArm}: trained on the human labels)", StringComparison.Ordinal) : legend;
        }
        var chance = plot.Add.VerticalLine(0.5, 1.5f, Colors.Gray, LinePattern.Dashed);
        chance.LegendText = "chance";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        plot.Axes.Left.SetTicks([.. names.Select((_, i) => (double)i)], [.. names]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        plot.Axes.SetLimits(0, 1.08, names.Count - 0.5, -0.5);
        plot.Title($"Accuracy of each combined objective against {(r.World is not null ? "the true preference" : "the human labels")}", 14);
        plot.XLabel(AccuracyOn(r), 12);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        return new ReportChart(ReportFiles.ObjectiveChart, Png(plot.GetImage(Width, BarChartHeight(names.Count))));
    }

    /// <summary>The linear objective's mean accuracy by principles kept, the band from the lowest to the highest over the random removal orders.</summary>
    private static ReportChart Ablation(RunReport r)
    {
        var points = r.Ablation.Where(a => double.IsFinite(a.Accuracy)).OrderBy(a => a.Principles).ToList();
        double[] xs = [.. points.Select(a => (double)a.Principles)];
        var color = Palette.GetColor(0);
        using var plot = new Plot();
        var band = plot.Add.FillY(xs, [.. points.Select(a => a.Lowest)], [.. points.Select(a => a.Highest)]);
        band.FillColor = color.WithAlpha(0.2);
        band.LineWidth = 0;
        band.LegendText = $"lowest to highest over {ScalarizationStage.AblationOrders} orders";
        var mean = plot.Add.Scatter(xs, [.. points.Select(a => a.Accuracy)], color);
        mean.LineWidth = 2;
        mean.MarkerSize = 8;
        mean.LegendText = $"mean accuracy ({r.AccuracyMeasuredOn} held-out pairs)";
        var chance = plot.Add.HorizontalLine(0.5, 1.5f, Colors.Gray, LinePattern.Dashed);
        chance.LegendText = "chance";
        plot.Axes.Bottom.SetTicks(xs, [.. points.Select(a => a.Principles.ToString(CultureInfo.InvariantCulture))]);
        var low = Math.Min(0.45, points.Min(a => a.Lowest) - 0.05);
        var high = Math.Min(1.02, points.Max(a => a.Highest) + 0.05);
        plot.Axes.SetLimits(xs[0] - 0.4, xs[^1] + 0.4, Math.Max(0, low), Math.Max(high, 0.55));
        plot.Title($"Ablation: the linear objective as principles are removed in {ScalarizationStage.AblationOrders} random orders", 14);
        plot.XLabel("principles kept", 12);
        plot.YLabel(r.World is not null ? "accuracy vs the true preference" : "accuracy vs the human labels", 12);
        plot.ShowLegend(Edge.Right);
        return new ReportChart(ReportFiles.AblationChart, Png(plot.GetImage(Width, AblationHeight)));
    }

    private static byte[] Png(ScottPlot.Image image)
    {
        using (image) return image.GetImageBytes(ImageFormat.Png, 100);
    }
}
