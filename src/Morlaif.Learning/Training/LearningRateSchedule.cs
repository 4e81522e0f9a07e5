namespace Morlaif.Learning.Training;

/// <summary>Transformers' lr_scheduler_type, for the two schedules trained with here.</summary>
public enum LrSchedulerType { Cosine, Constant }

/// <summary>
/// Linear warm-up then cosine decay to zero, as trl's reward trainer is configured in the paper; or, with
/// <see cref="LrSchedulerType.Constant"/>, the peak rate at every step (no warm-up).
/// </summary>
public sealed record LearningRateSchedule(double PeakLearningRate, int TotalSteps, int WarmupSteps, LrSchedulerType Type = LrSchedulerType.Cosine)
{
    public double At(int step)
    {
        if (Type == LrSchedulerType.Constant) return PeakLearningRate;
        if (step < WarmupSteps) return PeakLearningRate * (step + 1) / WarmupSteps;
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return PeakLearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }

    public static LearningRateSchedule For(double lr, int totalSteps, double warmupFraction, LrSchedulerType type = LrSchedulerType.Cosine) =>
        type == LrSchedulerType.Constant ? new(lr, totalSteps, 0, type) : new(lr, totalSteps, Math.Max(1, (int)Math.Round(totalSteps * warmupFraction)));
}
