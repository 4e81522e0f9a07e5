using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>
/// What every stage of a run derives from its config alone, whatever the model family: the questions asked and the
/// seeds, on the run's device. Any process that holds the config rebuilds the same context. A model backend's context
/// adds its models and tokenizer: <see cref="World.WorldRun"/> and <see cref="TextRuns.TextRun"/>.
/// </summary>
public class RunContext(RunConfig config, Device device)
{
    public RunConfig Config { get; } = config;
    public Device Device { get; } = device;

    /// <summary>The MORLAIF principles, then the single-objective baseline's question ("constitution" or "overall") and its further draws where the run matches budgets (<see cref="PmQuestions.Labelled"/>).</summary>
    public IReadOnlyList<string> Questions => PmQuestions.Labelled(Config);

    /// <summary>A seed per purpose, so changing one stage's sizes does not reshuffle another stage's data.</summary>
    public int Seed(params object[] purpose) => Seeds.Derive(Config.Seed, purpose);
}
