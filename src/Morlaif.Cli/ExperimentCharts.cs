using Morlaif.Learning.Experiments;
using Morlaif.Learning.Statistics;
using ScottPlot;

namespace Morlaif.Cli;

/// <summary>An experiment's charts as PNG beside experiment.md: each point with its 95% interval as a vertical line.</summary>
public static class ExperimentCharts
{
    public static IReadOnlyList<string> Write(ExperimentReport r, string root)
    {
        var written = new List<string>();
        void Save(Plot plot, string name, int width = 900, int height = 500)
        {
            var path = Path.Combine(root, name);
            plot.SavePng(path, width, height);
            written.Add(path);
        }

        var comparisons = (r.Finding1 is { } f ? new[] { f with { X = $"{f.X} ({f.Seeds} seeds)" } } : [])
            .Concat(r.Finding1Unseen is { } u ? [u with { X = $"{u.X}, unseen templates ({u.Seeds})" }] : [])
            .Concat(r.Controls.Select(c => c with { X = $"{c.X} vs {c.Y} ({c.Seeds})" }))
            .Concat(r.Finding2VsBaseline.Select(c => c with { X = $"{c.X} ({c.Seeds})" })).ToList();
        if (comparisons.Count > 0)
        {
            // Policies down the y axis, so their long names stay whole and apart.
            var plot = new Plot();
            var ys = comparisons.Select((_, i) => (double)i).ToArray();
            Points(plot, [.. comparisons.Select(c => Scale(c.Net, 100))], ys, 0, horizontal: true);
            plot.Add.VerticalLine(0, 1, Colors.Gray);
            plot.Axes.Left.SetTicks(ys, [.. comparisons.Select(c => c.X)]);
            plot.Axes.SetLimitsY(comparisons.Count - 0.5, -0.5); // the first on top, as in experiment.md
            plot.Title("Policies vs the baseline (unless named): wins - losses, 95% intervals");
            plot.XLabel("wins - losses, % of prompts");
            Save(plot, "policies.png", 1000, 120 + 36 * comparisons.Count);
        }
        if (r.Finding3.Count > 0)
        {
            var plot = new Plot();
            var xs = r.Finding3.Select(b => Math.Log10(b.Budget)).ToArray();
            Points(plot, [.. r.Finding3.Select(b => b.Linear)], xs, 0, "linear");
            Points(plot, [.. r.Finding3.Select(b => b.Single)], [.. xs.Select(x => x + 0.02)], 1, "single PM");
            var controlled = r.Finding3.Where(b => b.Control is not null).ToList();
            if (controlled.Count > 0)
                Points(plot, [.. controlled.Select(b => b.Control!)], [.. controlled.Select(b => Math.Log10(b.Budget) + 0.04)], 2, "single PM + human labels");
            foreach (var (arm, i) in r.Finding3.SelectMany(b => b.Matched.Select(m => m.Arm)).Distinct().Select((a, i) => (a, i)))
            {
                var matched = r.Finding3.Where(b => b.Matched.Any(m => m.Arm == arm)).ToList();
                Points(plot, [.. matched.Select(b => b.Matched.Single(m => m.Arm == arm).Accuracy)], [.. matched.Select(b => Math.Log10(b.Budget) + 0.06 + 0.02 * i)], 3 + i,
                    arm == Learning.Stages.ScalarizationStage.PooledArm ? "one PM, matched budget" : "ensemble, matched budget");
            }
            plot.Axes.Bottom.SetTicks(xs, [.. r.Finding3.Select(b => b.Budget.ToString())]);
            plot.Title("Objective accuracy against the noise-free truth, by label budget");
            plot.XLabel("judge-labelled training pairs");
            plot.YLabel("accuracy");
            plot.ShowLegend(Edge.Right);
            Save(plot, "budgets.png", 1100, 500);
        }
        if (r.Finding4.Count > 0)
        {
            var plot = new Plot();
            Points(plot, [.. r.Finding4.Select(a => a.Accuracy)], [.. r.Finding4.Select(a => (double)a.Principles)], 0);
            plot.Title("Accuracy as principles are removed (random orders)");
            plot.XLabel("principles kept");
            plot.YLabel("accuracy");
            Save(plot, "ablation.png");
        }
        if (r.Ppo.Any(p => p.TruthByIteration.Count > 0))
        {
            // One colour per arm, the truth dashed; the legend beside the data, not over the curves' ends.
            var plot = new Plot();
            foreach (var (p, a) in r.Ppo.Select((p, a) => (p, a)))
            {
                var xs = Enumerable.Range(1, p.ProxyByIteration.Count).Select(i => (double)i).ToArray();
                var proxy = plot.Add.Scatter(xs, [.. p.ProxyByIteration], Palette.GetColor(a));
                proxy.LegendText = $"{p.Arm}: proxy reward";
                var truth = plot.Add.Scatter(xs, [.. p.TruthByIteration], Palette.GetColor(a));
                truth.LinePattern = LinePattern.Dashed;
                truth.LegendText = $"{p.Arm}: true preference";
            }
            plot.Title("PPO: the rollouts' proxy reward and true preference, mean over seeds");
            plot.XLabel("iteration");
            plot.ShowLegend(Edge.Right);
            Save(plot, "ppo.png", 1100, 500);
        }
        return written;
    }

    private static Interval Scale(Interval i, double k) => new(k * i.Estimate, k * i.Low, k * i.High);

    // Series pick their colour by index: each interval line added would otherwise take the next colour of the plot's palette.
    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>Each interval's estimate as a point at its position, its range as a line across the value axis.</summary>
    private static void Points(Plot plot, IReadOnlyList<Interval> intervals, double[] positions, int series, string? legend = null, bool horizontal = false)
    {
        double[] estimates = [.. intervals.Select(i => i.Estimate)];
        var color = Palette.GetColor(series);
        var scatter = horizontal ? plot.Add.ScatterPoints(estimates, positions, color) : plot.Add.ScatterPoints(positions, estimates, color);
        scatter.MarkerSize = 9;
        if (legend is not null) scatter.LegendText = legend;
        for (var i = 0; i < intervals.Count; i++)
        {
            var line = horizontal
                ? plot.Add.Line(intervals[i].Low, positions[i], intervals[i].High, positions[i])
                : plot.Add.Line(positions[i], intervals[i].Low, positions[i], intervals[i].High);
            line.Color = color;
            line.LineWidth = 2;
        }
    }
}
