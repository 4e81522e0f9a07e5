using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers;

/// <summary>What `morlaif replay` does to the manifest before it sends a stage's commands again.</summary>
public static class RunReplay
{
    /// <summary>
    /// The records of <paramref name="stage"/> to ask for again (one question's with <paramref name="principle"/>,
    /// where the stage has one record per question). Empty when there is nothing left to do (every PPO chunk done).
    /// </summary>
    public static List<string> Keys(RunManifest manifest, RunPlan plan, PipelineStage stage, string? principle)
    {
        if (principle is not null && !stage.PerQuestion)
            throw new ArgumentException($"--principle applies to --stage {PipelineDefinition.PerQuestionNames} only");
        if (principle is not null && !plan.Questions.Contains(principle))
            throw new ArgumentException($"run {manifest.RunId} has no principle '{principle}' (its questions: {string.Join(", ", plan.Questions)})");
        var keys = (stage.ReplayKeys ?? ((_, p) => stage.Keys(p)))(manifest, plan);
        return keys.Where(k => principle is null || k == $"{stage.Name}/{principle}").ToList();
    }

    /// <summary>
    /// Resets the stages to Pending (so their consumers compute again) and a faulted run to Running; a
    /// completed run stays completed (a replayed stage recomputes the same outputs).
    /// </summary>
    public static Task ResetAsync(IManifestStore manifests, string runId, IEnumerable<string> stages, CancellationToken cancel = default) =>
        manifests.UpdateAsync(runId, m =>
        {
            foreach (var key in stages)
            {
                var s = m.Stage(key);
                s.State = StageState.Pending;
                s.Claim = null;
                s.Error = null;
            }
            if (m.State == RunState.Faulted)
            {
                m.State = RunState.Running;
                m.Error = null;
            }
            return true;
        }, cancel);
}
