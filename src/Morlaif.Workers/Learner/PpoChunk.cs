using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Learner;

/// <summary>
/// One PPO chunk of one arm, whatever the task: iterations [start, end) from this chunk's own progress checkpoint when a
/// previous attempt left one, else from where the previous chunk ended (or a fresh learner), checkpointing after every
/// iteration; returns the chunk's outputs. The task gives the learner and how it runs one iteration.
/// </summary>
public static class PpoChunk
{
    /// <summary>An arm's progress: its iterations, and the last one's proxy reward, KL and, in the world, true preference.</summary>
    public static StageProgress Progress(int iteration, int iterations, PpoIterationStats last)
    {
        var figures = new Dictionary<string, double> { ["reward"] = last.MeanScore, ["KL"] = last.MeanKl };
        if (last.Truth is { } t && t.TryGetValue(RewardHackingCheck.TruthKey, out var truth)) figures["truth"] = truth;
        return new(iteration, iterations, "iterations", figures);
    }

    /// <param name="create">a fresh learner on the arm's SFT policy and reward (a checkpoint's state is restored into it)</param>
    /// <param name="iterate">one iteration of the learner, on the task's prompts for it</param>
    /// <param name="monitor">the judge watching the policy, where the arm has one: its check is part of the iteration it follows</param>
    public static async Task<Dictionary<string, ArtifactReference>> RunAsync(RunArtifacts artifacts, StageCheckpoints checkpoints, RunManifest m,
        string arm, int start, int end, PpoSettings ppo, Func<PpoLearner> create, Func<PpoLearner, PpoIterationStats> iterate, PolicyMonitor? monitor,
        ILogger log, CancellationToken cancel)
    {
        var stage = StageKeys.PpoChunk(arm, start);
        var inputs = new List<ArtifactReference> { m.Config, RunArtifacts.Output(m, StageKeys.Sft, StageOutputs.Policy) };
        // Every PM an arm's reward may read (the control's too, where the run has one) and the fitted objective.
        inputs.AddRange(m.Stages.Keys.Where(k => PipelineDefinition.OfKey(k) == PipelineDefinition.TrainPm).Order(StringComparer.Ordinal)
            .Select(k => RunArtifacts.Output(m, k, StageOutputs.Model)));
        inputs.Add(RunArtifacts.Output(m, StageKeys.Scalarize, StageOutputs.Objective));
        var previous = start == 0 ? null : StageKeys.PpoChunk(arm, start - ppo.IterationsPerChunk);
        if (previous is not null) inputs.Add(RunArtifacts.Output(m, previous, StageOutputs.Checkpoint));
        var fingerprint = StageCheckpoints.Fingerprint(inputs);

        var (learner, stats) = await checkpoints.ResumeAsync(m, stage, fingerprint,
            progress => PpoStage.LoadProgress(create, progress),
            async () =>
            {
                if (previous is null) return (create(), new List<PpoIterationStats>());
                var checkpoint = await artifacts.BytesAsync(RunArtifacts.Output(m, previous, StageOutputs.Checkpoint), cancel);
                var done = PpoStage.StatsFromJson(await artifacts.BytesAsync(RunArtifacts.Output(m, previous, StageOutputs.Stats), cancel));
                return (PpoStage.Restored(create, checkpoint), done);
            }, cancel);
        using (learner)
        {
            while (learner.Iteration < end)
            {
                checkpoints.HandBackIfStopping(m.RunId, stage, learner.Iteration, cancel);
                var began = System.Diagnostics.Stopwatch.GetTimestamp();
                var iteration = iterate(learner);
                Monitoring.MorlaifTelemetry.PpoIteration(arm, System.Diagnostics.Stopwatch.GetElapsedTime(began),
                    (long)Math.Round(iteration.MeanResponseTokens * ppo.RolloutsPerIteration));
                // A started iteration, its judge's check included, is finished and checkpointed even when the worker is
                // stopping meanwhile (HandBackIfStopping).
                if (monitor is not null && monitor.Due(learner.Iteration, ppo.Iterations))
                    iteration = iteration with { Monitor = await monitor.CheckAsync(learner, CancellationToken.None) };
                stats.Add(iteration);
                log.LogInformation("run {RunId}: PPO {Arm} {Iteration}/{Total}, reward {Score:F3}, KL {Kl:F4}",
                    m.RunId, arm, learner.Iteration, ppo.Iterations, stats[^1].MeanScore, stats[^1].MeanKl);
                await checkpoints.ProgressAsync(m.RunId, stage, Progress(learner.Iteration, ppo.Iterations, stats[^1]), CancellationToken.None);
                if (learner.Iteration < end)
                    await checkpoints.SaveAsync(m.RunId, stage, fingerprint, learner.Iteration, PpoStage.SaveProgress(learner, stats), CancellationToken.None);
            }
            return new()
            {
                [StageOutputs.Checkpoint] = await artifacts.Store.PutAsync(m.RunId, ArtifactNames.Kind($"ppo-{arm}"), learner.SaveCheckpoint(), cancel),
                [StageOutputs.Stats] = await artifacts.Store.PutAsync(m.RunId, ArtifactNames.Kind($"ppo-stats-{arm}"), PpoStage.StatsToJson(stats), cancel),
            };
        }
    }
}
