using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Monitoring;

/// <summary>
/// One line of a run's progress: a stage, or one record of a long stage (a PM) or its group (a PPO arm's chunks), with
/// what is done of it, how fast, how long is left, and its latest figures.
/// </summary>
public sealed record ProgressRow(string Name, StageState State, int Done, int Total, string Unit, IReadOnlyDictionary<string, double> Figures,
    TimeSpan? Elapsed, double? PerSecond, TimeSpan? Left);

/// <summary>
/// A run's progress read from its manifest alone (what each record's state and <see cref="StageProgress"/> say), so the
/// same view serves `morlaif run` in-process and `morlaif status --watch` on a distributed run. The rows follow
/// <see cref="PipelineDefinition"/>: one per stage, one per record of a long stage (grouped as the stage times them).
/// </summary>
public static class RunProgress
{
    public static List<ProgressRow> Rows(RunManifest m, RunPlan plan, DateTimeOffset now)
    {
        var rows = new List<ProgressRow>();
        foreach (var stage in PipelineDefinition.Stages)
        {
            var keys = stage.Keys(plan).ToList();
            var groups = stage.Long ? keys.GroupBy(stage.TimedAs ?? (k => k)) : keys.GroupBy(_ => stage.Name);
            foreach (var group in groups)
                // A stage of one record per question counts its questions; a long stage's record counts its own steps.
                rows.Add(Row(group.Key, [.. group.Select(k => m.Stages.GetValueOrDefault(k) ?? new StageRecord())], stage.PerQuestion && !stage.Long ? "questions" : "", now));
        }
        return rows;
    }

    private static ProgressRow Row(string name, List<StageRecord> records, string countUnit, DateTimeOffset now)
    {
        var state = records.Any(r => r.State == StageState.Faulted) ? StageState.Faulted
            : records.All(r => r.State == StageState.Done) ? StageState.Done
            : records.Any(r => r.State != StageState.Pending) ? StageState.Running
            : StageState.Pending;
        var latest = records.Select(r => r.Progress).OfType<StageProgress>().MaxBy(p => p.At);
        var (done, total, unit) = latest is { } p
            ? (state == StageState.Done ? p.Total : p.Done, p.Total, p.Unit)
            : (records.Count(r => r.State == StageState.Done), records.Count, countUnit);
        var started = records.Select(r => r.StartedAt).Min();
        var ended = state == StageState.Done ? records.Select(r => r.CompletedAt).Max() : null;
        TimeSpan? elapsed = started is { } s ? (ended ?? now) - s : null;
        double? perSecond = null;
        TimeSpan? left = null;
        // The rate of the steps reported so far: the work's own pace, not counting the wait for the next report.
        if (state == StageState.Running && started is { } from && latest?.At is { } at && done > 0 && at > from)
        {
            perSecond = done / (at - from).TotalSeconds;
            left = TimeSpan.FromSeconds((total - done) / perSecond.Value);
        }
        return new ProgressRow(name, state, done, total, unit, latest?.Figures ?? new Dictionary<string, double>(), elapsed, perSecond, left);
    }
}
