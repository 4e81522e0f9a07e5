using Microsoft.Extensions.Logging;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Monitoring;

/// <summary>Records in a run's manifest the failure that stopped it, for `morlaif status` and `morlaif replay`.</summary>
public sealed class RunFaults(IManifestStore manifests, ILogger<RunFaults> log)
{
    /// <summary>
    /// Marks the run Faulted with "&lt;where&gt;: &lt;reason&gt;", and the stage's record too when the failure
    /// belongs to one: <paramref name="key"/>, or, for a message that runs several records of
    /// <paramref name="stage"/> (the labeller's), the first of them not Done. A key naming a question the
    /// run does not have marks no record, and the run's error names the stage. A run already Completed, or a
    /// record already Done, stays as it is; a run id that names no manifest (or is not valid) leaves the log
    /// as the only record.
    /// </summary>
    public async Task MarkAsync(string? runId, string where, PipelineStage? stage, string? key, string reason, CancellationToken cancel = default)
    {
        if (!RunIds.IsValid(runId)) return;
        try
        {
            await manifests.UpdateAsync(runId!, m =>
            {
                if (m.State == RunState.Completed) return false;
                var record = key;
                var at = where;
                if (stage is not null)
                {
                    // Chunk starts are not needed to find a labelling or PM record.
                    var keys = stage.Keys(new RunPlan(m.Questions, [])).ToList();
                    if (key is null) record = keys.FirstOrDefault(k => m.Stages.GetValueOrDefault(k)?.State != StageState.Done);
                    else if (stage.PerQuestion && !keys.Contains(key)) (record, at) = (null, stage.Name); // a question the run does not have: no such record
                }
                if (record is not null)
                {
                    var s = m.Stage(record);
                    if (s.State == StageState.Done) return false;
                    s.State = StageState.Faulted;
                    s.Error = reason;
                }
                m.State = RunState.Faulted;
                m.Error = $"{at}: {reason}";
                return true;
            }, cancel);
        }
        catch (RunNotFoundException)
        {
            log.LogError("run {RunId} has no manifest; the fault is only logged", runId);
        }
    }
}
