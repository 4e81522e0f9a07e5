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
        void Save(Plot plot, string name)
        {
            var path = Path.Combine(root, name);
            plot.SavePng(path, 900, 500);
            written.Add(path);
        }

        var comparisons = (r.Finding1 is { } f ? new[] { f with { X = $"{f.X} ({f.Seeds} seeds)" } } : [])
            .Concat(r.Finding1Unseen is { } u ? [u with { X = $"{u.X}, unseen templates ({u.Seeds})" }] : [])
            .Concat(r.Controls.Select(c => c with { X = $"{c.X} vs {c.Y} ({c.Seeds})" }))
            .Concat(r.Finding2VsBaseline.Select(c => c with { X = $"{c.X} ({c.Seeds})" })).ToList();
        if (comparisons.Count > 0)
        {
            var plot = new Plot();
            Points(plot, [.. comparisons.Select(c => Scale(c.Net, 100))], null);
            plot.Add.HorizontalLine(0);
            plot.Axes.Bottom.SetTicks([.. comparisons.Select((_, i) => (double)i)], [.. comparisons.Select(c => c.X)]);
            plot.Title("Policies against the baseline (unless named): wins - losses (points), 95% intervals");
            plot.YLabel("wins - losses, % of prompts");
            Save(plot, "policies.png");
        }
        if (r.Finding3.Count > 0)
        {
            var plot = new Plot();
            var xs = r.Finding3.Select(b => Math.Log10(b.Budget)).ToArray();
            Points(plot, [.. r.Finding3.Select(b => b.Linear)], xs, "linear");
            Points(plot, [.. r.Finding3.Select(b => b.Single)], [.. xs.Select(x => x + 0.02)], "single PM");
            var controlled = r.Finding3.Where(b => b.Control is not null).ToList();
            if (controlled.Count > 0)
                Points(plot, [.. controlled.Select(b => b.Control!)], [.. controlled.Select(b => Math.Log10(b.Budget) + 0.04)], "single PM + human labels");
            plot.Axes.Bottom.SetTicks(xs, [.. r.Finding3.Select(b => b.Budget.ToString())]);
            plot.Title("Objective accuracy against the noise-free truth, by label budget");
            plot.XLabel("judge-labelled training pairs");
            plot.YLabel("accuracy");
            plot.ShowLegend();
            Save(plot, "budgets.png");
        }
        if (r.Finding4.Count > 0)
        {
            var plot = new Plot();
            Points(plot, [.. r.Finding4.Select(a => a.Accuracy)], [.. r.Finding4.Select(a => (double)a.Principles)]);
            plot.Title("Accuracy as principles are removed (random orders)");
            plot.XLabel("principles kept");
            plot.YLabel("accuracy");
            Save(plot, "ablation.png");
        }
        if (r.Ppo.Any(p => p.TruthByIteration.Count > 0))
        {
            var plot = new Plot();
            foreach (var p in r.Ppo)
            {
                var xs = Enumerable.Range(1, p.ProxyByIteration.Count).Select(i => (double)i).ToArray();
                plot.Add.Scatter(xs, [.. p.ProxyByIteration]).LegendText = $"{p.Arm}: proxy reward";
                plot.Add.Scatter(xs, [.. p.TruthByIteration]).LegendText = $"{p.Arm}: true preference";
            }
            plot.Title("PPO: the rollouts' proxy reward and true preference, mean over seeds");
            plot.XLabel("iteration");
            plot.ShowLegend();
            Save(plot, "ppo.png");
        }
        return written;
    }

    private static Interval Scale(Interval i, double k) => new(k * i.Estimate, k * i.Low, k * i.High);

    private static void Points(Plot plot, IReadOnlyList<Interval> intervals, double[]? xs, string? legend = null)
    {
        xs ??= [.. intervals.Select((_, i) => (double)i)];
        var scatter = plot.Add.ScatterPoints(xs, [.. intervals.Select(i => i.Estimate)]);
        scatter.MarkerSize = 9;
        if (legend is not null) scatter.LegendText = legend;
        for (var i = 0; i < intervals.Count; i++)
        {
            var line = plot.Add.Line(xs[i], intervals[i].Low, xs[i], intervals[i].High);
            line.Color = scatter.Color;
            line.LineWidth = 2;
        }
    }
}
