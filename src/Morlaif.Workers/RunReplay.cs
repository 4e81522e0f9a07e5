using Morlaif.Storage;

namespace Morlaif.Workers;

/// <summary>What `morlaif replay` does to the manifest before it sends a stage's command again.</summary>
public static class RunReplay
{
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
