using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>
/// A labelled comparison: two full sequences (bos prompt sep response eos), the probability that A is
/// the better one (1, 0, or 0.5 for a tie) and the judge's margin.
/// </summary>
public readonly record struct PreferencePair(int[] A, int[] B, double PreferA, double Margin);

public sealed record PmSettings(int Epochs = 2, int BatchSize = 32, double LearningRate = 1e-3, double WarmupFraction = 0.1);

/// <summary>Trains and applies a preference model with the Bradley-Terry loss with margin.</summary>
public static class PreferenceModelTraining
{
    /// <summary>
    /// L = -p log σ(r_A - r_B - m) - (1 - p) log σ(r_B - r_A - m). With a hard label (p = 1) this is the
    /// paper's -log σ(r(x, y_w) - r(x, y_l) - m); a tie (p = 0.5, m = 0) pulls the two scores together.
    /// </summary>
    public static Tensor BradleyTerryLoss(Tensor rA, Tensor rB, Tensor preferA, Tensor margin) => Scoped.Run(() =>
    {
        var d = rA - rB;
        var loss = -(preferA * nn.functional.logsigmoid(d - margin) + (1 - preferA) * nn.functional.logsigmoid(-d - margin));
        return loss.mean();
    });

    /// <returns>The mean loss of the last epoch.</returns>
    public static double Train(IPreferenceScorer pm, IReadOnlyList<PreferencePair> pairs, PmSettings s, long seed)
    {
        using var trainer = new PreferenceModelTrainer<IPreferenceScorer>(pm, pairs, s, seed);
        while (!trainer.Done) trainer.RunEpoch();
        return trainer.LastEpochLoss;
    }

    /// <summary>The mean Bradley-Terry loss (with margin) of <paramref name="pm"/> on <paramref name="pairs"/>, without training.</summary>
    public static double Loss(IPreferenceScorer pm, IReadOnlyList<PreferencePair> pairs)
    {
        if (pairs.Count == 0) return double.NaN;
        var a = pm.ScoreAll(pairs.Select(p => p.A).ToList());
        var b = pm.ScoreAll(pairs.Select(p => p.B).ToList());
        using var scope = NewDisposeScope();
        Tensor T(IEnumerable<double> xs) => tensor(xs.Select(x => (float)x).ToArray());
        return BradleyTerryLoss(T(a), T(b), T(pairs.Select(p => p.PreferA)), T(pairs.Select(p => p.Margin))).item<float>();
    }

    /// <summary>Fraction of pairs with a hard label on which the model agrees with it (ties are not counted).</summary>
    public static double Accuracy(IPreferenceScorer pm, IReadOnlyList<PreferencePair> pairs)
    {
        var decided = pairs.Where(p => p.PreferA != 0.5).ToList();
        if (decided.Count == 0) return double.NaN;
        var a = pm.ScoreAll(decided.Select(p => p.A).ToList());
        var b = pm.ScoreAll(decided.Select(p => p.B).ToList());
        return decided.Select((p, i) => (a[i] > b[i]) == (p.PreferA > 0.5) ? 1.0 : 0.0).Average();
    }
}
