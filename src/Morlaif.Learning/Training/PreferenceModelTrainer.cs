using Morlaif.Learning.Checkpoints;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>
/// PM training one epoch at a time, checkpointable between epochs, for any model family (<see cref="IPreferenceScorer"/>):
/// the Bradley-Terry loss with margin, AdamW with weight decay 0.01, warmup then decay, the gradient norm clipped to 1,
/// A and B of a pair in one batch. Each epoch's shuffle is seeded from (seed, epoch) rather than drawn from one running
/// generator, so a trainer restored from a checkpoint trains exactly as the uninterrupted one would have.
/// </summary>
public sealed class PreferenceModelTrainer<TModel> : IDisposable where TModel : IPreferenceScorer
{
    private readonly TModel _pm;
    private readonly IReadOnlyList<PreferencePair> _pairs;
    private readonly PmSettings _s;
    private readonly long _seed;
    private readonly LearningRateSchedule _schedule;
    private readonly TorchSharp.Modules.AdamW _optimizer;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _trainable;
    private readonly Device _device;
    private int _step;

    public PreferenceModelTrainer(TModel pm, IReadOnlyList<PreferencePair> pairs, PmSettings settings, long seed)
    {
        if (pairs.Count == 0) throw new ArgumentException("no preference pairs to train on", nameof(pairs));
        _pm = pm;
        _pairs = pairs;
        _s = settings;
        _seed = seed;
        _device = pm.Device;
        _schedule = LearningRateSchedule.For(settings.LearningRate, settings.Epochs * StepsPerEpoch, settings.WarmupFraction);
        _trainable = [.. pm.Trainable.Values];
        _optimizer = optim.AdamW(_trainable, settings.LearningRate, weight_decay: 0.01);
    }

    public TModel Model => _pm;

    /// <summary>The training pairs.</summary>
    public IReadOnlyList<PreferencePair> Pairs => _pairs;

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    public bool Done => Epoch >= _s.Epochs;

    /// <summary>Epochs in all.</summary>
    public int Epochs => _s.Epochs;

    /// <summary>The mean loss of the last completed epoch (NaN before the first).</summary>
    public double LastEpochLoss { get; private set; } = double.NaN;

    private int StepsPerEpoch => (int)Math.Ceiling(_pairs.Count / (double)_s.BatchSize);

    /// <returns>The epoch's mean loss.</returns>
    public double RunEpoch()
    {
        if (Done) throw new InvalidOperationException($"all {_s.Epochs} epochs are done");
        _pm.SetTraining(true);
        var (loss, _) = _optimizer.Epoch(_trainable, _schedule, ref _step, _pairs.Count, _s.BatchSize, new Random(Seeds.Derive(_seed, "pm-epoch", Epoch)), chunk =>
        {
            var batch = chunk.Select(i => _pairs[i]).ToList();
            // A and B go through the model as one batch: one forward pass per step instead of two.
            var r = _pm.Score([.. batch.Select(p => p.A), .. batch.Select(p => p.B)]);
            var n = batch.Count;
            return (PreferenceModelTraining.BradleyTerryLoss(r[..n], r[n..],
                tensor(batch.Select(p => (float)p.PreferA).ToArray(), device: _device),
                tensor(batch.Select(p => (float)p.Margin).ToArray(), device: _device)), 1);
        });
        _pm.SetTraining(false);
        Epoch++;
        return LastEpochLoss = loss;
    }

    public const string CheckpointKind = "pm-trainer";

    /// <summary>The trainer's scalars, as the checkpoint's JSON state.</summary>
    private sealed record TrainerState(int Epoch, int Step, double LastEpochLoss);

    /// <summary>Model weights under their parameter names, AdamW's state, epoch, step and last loss.</summary>
    public byte[] SaveCheckpoint()
    {
        using var c = new Checkpoint(CheckpointKind);
        c.SetState(new TrainerState(Epoch, _step, LastEpochLoss));
        c.AddTensors(_pm.State);
        c.AddOptimizer(_optimizer, _pm.Trainable);
        return c.ToBytes();
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same pairs and settings.</summary>
    public void LoadCheckpoint(byte[] checkpoint)
    {
        using var c = Checkpoint.FromBytes(checkpoint, CheckpointKind);
        var state = c.GetState<TrainerState>();
        if (state.Epoch > _s.Epochs || state.Step != state.Epoch * StepsPerEpoch)
            throw new InvalidDataException($"PM training checkpoint at epoch {state.Epoch}, step {state.Step} does not fit {_s.Epochs} epochs of {StepsPerEpoch} steps");
        c.LoadTensors(_pm.State);
        c.LoadOptimizer(_optimizer, _pm.Trainable);
        LastEpochLoss = state.LastEpochLoss;
        Epoch = state.Epoch;
        _step = state.Step;
    }

    public void Dispose() => _optimizer.Dispose();
}
