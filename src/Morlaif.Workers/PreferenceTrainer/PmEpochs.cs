using Microsoft.Extensions.Logging;
using Morlaif.Learning.Training;
using Morlaif.Storage;

namespace Morlaif.Workers.PreferenceTrainer;

/// <summary>
/// One PM's training, epoch by epoch, whatever the model family: from the record's checkpoint when a previous attempt
/// left a usable one, else from a fresh trainer, with a checkpoint after every epoch but the last (the finished model is
/// the stage's output, not a checkpoint). A redelivered message so resumes where the last attempt stopped.
/// </summary>
public static class PmEpochs
{
    /// <summary>The fingerprint of what a question's PM trains from: the config, the SFT stage's policy and pairs, its labels (<see cref="Learning.Stages.PmQuestions.TrainedOn"/>).</summary>
    public static string Inputs(RunManifest m, Learning.Runs.RunConfig config, string question) => StageCheckpoints.Fingerprint(
        [
            m.Config,
            RunArtifacts.Output(m, StageKeys.Sft, Pipeline.StageOutputs.Policy), RunArtifacts.Output(m, StageKeys.Sft, Pipeline.StageOutputs.Pairs),
            .. Learning.Stages.PmQuestions.TrainedOn(question, config).Labels.Select(q => RunArtifacts.Output(m, StageKeys.Label(q), Pipeline.StageOutputs.Labels)),
        ]);

    /// <summary>A PM's progress: its epochs, the last one's loss, and once trained its held-out accuracy against the judge.</summary>
    public static StageProgress Progress(int epoch, int epochs, double loss, double? heldOutAccuracy = null) =>
        new(epoch, epochs, "epochs", heldOutAccuracy is { } a ? new Dictionary<string, double> { ["loss"] = loss, ["held-out acc"] = a } : new Dictionary<string, double> { ["loss"] = loss });

    /// <param name="start">a fresh trainer (null) or one restored from a checkpoint's bytes (InvalidDataException when it does not fit)</param>
    /// <param name="inputs">the fingerprint of the artifacts the PM trains from</param>
    public static async Task<PreferenceModelTrainer<TModel>> TrainAsync<TModel>(StageCheckpoints checkpoints, RunManifest manifest, string stage, string inputs,
        Func<byte[]?, PreferenceModelTrainer<TModel>> start, ILogger log, CancellationToken cancel) where TModel : IPreferenceScorer
    {
        var trainer = await checkpoints.ResumeAsync(manifest, stage, inputs, start, () => Task.FromResult(start(null)), cancel);
        try
        {
            while (!trainer.Done)
            {
                checkpoints.HandBackIfStopping(manifest.RunId, stage, trainer.Epoch, cancel);
                var loss = trainer.RunEpoch();
                log.LogInformation("run {RunId}: {Stage} epoch {Epoch}/{Epochs}, loss {Loss:F4}", manifest.RunId, stage, trainer.Epoch, trainer.Epochs, loss);
                // A finished epoch is recorded even when the worker is stopping meanwhile (HandBackIfStopping).
                await checkpoints.ProgressAsync(manifest.RunId, stage, Progress(trainer.Epoch, trainer.Epochs, loss), CancellationToken.None);
                if (!trainer.Done) await checkpoints.SaveAsync(manifest.RunId, stage, inputs, trainer.Epoch, trainer.SaveCheckpoint(), CancellationToken.None);
            }
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }
}
