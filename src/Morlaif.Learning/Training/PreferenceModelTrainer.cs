using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>
/// PM training one epoch at a time, checkpointable between epochs. Each epoch's shuffle is seeded from
/// (seed, epoch) rather than drawn from one running generator, so a trainer restored from a checkpoint
/// trains exactly as the uninterrupted one would have.
/// </summary>
public sealed class PreferenceModelTrainer : IDisposable
{
    private readonly PreferenceModel _pm;
    private readonly IReadOnlyList<PreferencePair> _pairs;
    private readonly PmSettings _s;
    private readonly long _seed;
    private readonly LearningRateSchedule _schedule;
    private readonly TorchSharp.Modules.AdamW _optimizer;
    private readonly Device _device;
    private int _step;

    public PreferenceModelTrainer(PreferenceModel pm, IReadOnlyList<PreferencePair> pairs, PmSettings settings, long seed)
    {
        if (pairs.Count == 0) throw new ArgumentException("no preference pairs to train on", nameof(pairs));
        _pm = pm;
        _pairs = pairs;
        _s = settings;
        _seed = seed;
        _device = pm.parameters().First().device;
        _schedule = LearningRateSchedule.For(settings.LearningRate, settings.Epochs * StepsPerEpoch, settings.WarmupFraction);
        _optimizer = optim.AdamW(pm.parameters(), settings.LearningRate, weight_decay: 0.01);
    }

    public PreferenceModel Model => _pm;

    /// <summary>The training pairs.</summary>
    public IReadOnlyList<PreferencePair> Pairs => _pairs;

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    public bool Done => Epoch >= _s.Epochs;

    /// <summary>The mean loss of the last completed epoch (NaN before the first).</summary>
    public double LastEpochLoss { get; private set; } = double.NaN;

    private int StepsPerEpoch => (int)Math.Ceiling(_pairs.Count / (double)_s.BatchSize);

    /// <returns>The epoch's mean loss.</returns>
    public double RunEpoch()
    {
        if (Done) throw new InvalidOperationException($"all {_s.Epochs} epochs are done");
        _pm.train();
        var rng = new Random(Seeds.Derive(_seed, "pm-epoch", Epoch));
        var order = TrainingSteps.Shuffled(_pairs.Count, rng);
        double sum = 0;
        var batches = 0;
        foreach (var chunk in order.Chunk(_s.BatchSize))
        {
            using var scope = NewDisposeScope();
            _optimizer.SetLearningRate(_schedule.At(_step++));
            var batch = chunk.Select(i => _pairs[i]).ToList();
            // A and B go through the model as one batch: one forward pass per step instead of two.
            var b = SequenceBatch.RightPadded([.. batch.Select(p => p.A), .. batch.Select(p => p.B)], _device);
            var r = _pm.Score(b.Tokens, b.Valid, b.LastIndex);
            var n = batch.Count;
            var loss = PreferenceModelTraining.BradleyTerryLoss(r[..n], r[n..],
                tensor(batch.Select(p => (float)p.PreferA).ToArray(), device: _device),
                tensor(batch.Select(p => (float)p.Margin).ToArray(), device: _device));
            _optimizer.ClippedStep(_pm, loss);
            sum += loss.item<float>();
            batches++;
        }
        Epoch++;
        return LastEpochLoss = sum / batches;
    }

    public const string CheckpointKind = "pm-trainer";

    /// <summary>The trainer's scalars, as the checkpoint's JSON state.</summary>
    private sealed record TrainerState(int Epoch, int Step, double LastEpochLoss);

    /// <summary>Model weights under their parameter names, AdamW's state, epoch, step and last loss.</summary>
    public byte[] SaveCheckpoint()
    {
        using var c = new Checkpoint(CheckpointKind);
        c.SetState(new TrainerState(Epoch, _step, LastEpochLoss));
        c.AddModule(_pm);
        c.AddOptimizer(_optimizer, _pm);
        return c.ToBytes();
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> for the same pairs and settings.</summary>
    public void LoadCheckpoint(byte[] checkpoint)
    {
        using var c = Checkpoint.FromBytes(checkpoint, CheckpointKind);
        var state = c.GetState<TrainerState>();
        if (state.Epoch > _s.Epochs || state.Step != state.Epoch * StepsPerEpoch)
            throw new InvalidDataException($"PM training checkpoint at epoch {state.Epoch}, step {state.Step} does not fit {_s.Epochs} epochs of {StepsPerEpoch} steps");
        c.LoadModule(_pm);
        c.LoadOptimizer(_optimizer, _pm);
        LastEpochLoss = state.LastEpochLoss;
        Epoch = state.Epoch;
        _step = state.Step;
    }

    public void Dispose() => _optimizer.Dispose();
}
