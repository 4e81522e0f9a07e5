namespace Morlaif.Benchmarks;

/// <summary>
/// <see cref="PmScoring"/>'s speed figure in the speed table: 12 principle PMs on GPT-2-small sharing the frozen layers
/// below their top-2 adapters, against one PM's pass (limit 3). 16 sequences of 96 tokens keep the case to a few minutes;
/// `pm-scoring` runs the larger size and the accuracy task.
/// </summary>
internal static class PmScoringSpeed
{
    public static IEnumerable<SpeedCase> Cases => [new("pm_scoring_12_vs_1", Run)];

    private static SpeedFigure Run(SpeedLimits limits)
    {
        const int sequences = 16, tokens = 96;
        var figures = PmScoring.Measure(speed: true, accuracy: false, sequences, tokens, repeats: 2).ToDictionary(f => f.Name);
        var today = figures["pm_scoring_12_today"].Value / figures["pm_scoring_one_pm"].Value;
        Console.WriteLine($"  12 PMs today (full-depth adapters, 12 passes) / one PM: {today:F2}x");
        // Weights and 12 adapters and heads (r = 8 on c_attn, 2 of 12 layers), one batch's activations of a pass.
        var gpu = 4.0 * (124_439_808 + 12 * 2 * 8 * (768 + 3 * 768)) + 4.0 * sequences * tokens * 768 * 16;
        return new SpeedFigure(figures["pm_scoring_12_vs_1"].Value, "x", 3.0, gpu);
    }
}
