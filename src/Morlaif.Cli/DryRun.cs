using Morlaif.Feedback.Datasets;
using Morlaif.Learning.Runs;
using Morlaif.Workers.Text;

namespace Morlaif.Cli;

/// <summary>
/// `--dry-run` on start and run: the config and its inputs are read and checked as the run would read them, and what
/// the run would cost is printed; nothing is stored, published or computed.
/// </summary>
internal static class DryRun
{
    /// <summary>A text run's inputs are read and checked before anything is started or stored (the run reads them again to store them).</summary>
    public static void Check(RunConfig config)
    {
        if (config.Task == RunConfig.TextTask) _ = TextRunInputs.Read(config);
    }

    /// <summary>Prints the check and the costs; 0 when the config can run.</summary>
    public static int Print(RunConfig config)
    {
        if (config.Task != RunConfig.TextTask)
        {
            Console.WriteLine($"task '{config.Task}': {config.Principles.Length} principles, baseline '{config.Baseline}', {config.Pairs.Train} + {config.Pairs.Test} pairs, "
                + $"{config.Ppo.Iterations} PPO iterations, {config.Judge.Kind} judge" + (config.Judge.Kind == "synthetic" ? " (nothing to pay for)" : ""));
            Console.WriteLine("dry run: the config is valid; nothing was started");
            return 0;
        }
        var inputs = TextRunInputs.Read(config);
        var sftExamples = config.Data.Sft is { } sft ? SftDatasets.Read(sft).Count : 0;
        var m = inputs.Model;
        Console.WriteLine($"model        {config.Model.Path}: {m.Architecture}, {m.Layers} layers, hidden {m.HiddenSize}, vocab {m.VocabSize}");
        if (config.Model.PmPath is { } pm) Console.WriteLine($"PM base      {pm}: {inputs.PmModel.Architecture}, {inputs.PmModel.Layers} layers");
        Console.WriteLine($"principles   {string.Join(", ", config.Principles)}; baseline '{config.Baseline}'; scalarization '{config.Scalarization}'");
        Console.WriteLine($"prompts      {inputs.PairPrompts.Count} for pairs, {inputs.EvaluationPrompts.Count} for evaluation (disjoint), longest {inputs.LongestPromptTokens} tokens");
        Console.WriteLine($"human pairs  {inputs.Human.Count} ({config.Data.Human})");
        Console.WriteLine($"judge        {config.Judge.Model} at {config.Judge.Endpoint}");
        Console.Write(TextRunCosts.Of(config, sftExamples).Describe());
        Console.WriteLine("dry run: the config and its inputs are valid; nothing was started");
        return 0;
    }
}
