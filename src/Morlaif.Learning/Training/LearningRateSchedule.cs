namespace Morlaif.Learning.Training;

/// <summary>Linear warm-up then cosine decay to zero, as trl's reward trainer is configured in the paper.</summary>
public sealed record LearningRateSchedule(double PeakLearningRate, int TotalSteps, int WarmupSteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps) return PeakLearningRate * (step + 1) / WarmupSteps;
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return PeakLearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    public static LearningRateSchedule For(double lr, int totalSteps, double warmupFraction) =>
        new(lr, totalSteps, Math.Max(1, (int)Math.Round(totalSteps * warmupFraction)));
}
