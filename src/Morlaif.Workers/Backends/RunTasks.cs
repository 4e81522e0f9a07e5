using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Contracts;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.TextRuns;
using Morlaif.Storage;
using Morlaif.Workers.Text;

namespace Morlaif.Workers.Backends;

/// <summary>
/// What a run's task ("world" or "text") changes: the backend its stages compute with, what is checked and stored
/// before the run starts, and what a dry run prints. <see cref="RunTasks.For"/> is the
/// one place a task is chosen; commands, the starter and the consumers ask it.
/// </summary>
public interface IRunTask
{
    /// <summary>The run's stage backend, from a worker's services.</summary>
    IStageBackend Backend(IServiceProvider services);

    /// <summary>Reads and checks the inputs the config names before anything starts (one error naming what and where).</summary>
    void Check(RunConfig config);

    /// <summary>`--dry-run`: the inputs and what the run would cost.</summary>
    void DryRun(RunConfig config, TextWriter output);

    /// <summary>What the run reads besides its config, put in the store before it starts (a text run's model folders and data).</summary>
    Task<SortedDictionary<string, ArtifactReference>> PutInputsAsync(IArtifactStore store, RunConfig config, CancellationToken cancel);
}

public static class RunTasks
{
    public static IRunTask For(RunConfig config) => config.Task == RunConfig.TextTask ? TextTask.Instance : WorldTask.Instance;

    private sealed class WorldTask : IRunTask
    {
        public static readonly WorldTask Instance = new();

        public IStageBackend Backend(IServiceProvider services) => services.GetRequiredService<WorldStages>();

        public void Check(RunConfig config)
        {
        }

        public void DryRun(RunConfig config, TextWriter output)
        {
            output.WriteLine($"task '{config.Task}': {config.Principles.Length} principles, baseline '{config.Baseline}', {config.Pairs.Train} + {config.Pairs.Test} pairs, "
                + $"{config.Ppo.Iterations} PPO iterations, {config.Judge.Kind} judge" + (config.Judge.Kind == "synthetic" ? " (nothing to pay for)" : ""));
            output.WriteLine(config.PolicyArms.Count == 0 ? "arms: none (the run stops after the objective fit)"
                : "arms: " + string.Join(", ", config.PolicyArms.Select(a => $"{a.Name} ({a.Reward}{(a.Reward == ScalarizationStage.MorlaifArm ? ", " + config.ForArm(a).Scalarization : "")}, "
                    + $"{config.ForArm(a).Ppo.Algorithm}, {config.ForArm(a).Ppo.Iterations} iterations{(config.MonitorOn(config.ForArm(a).Ppo) ? ", watched by the judge" : "")})")));
            output.WriteLine("dry run: the config is valid; nothing was started");
        }

        public Task<SortedDictionary<string, ArtifactReference>> PutInputsAsync(IArtifactStore store, RunConfig config, CancellationToken cancel) =>
            Task.FromResult(new SortedDictionary<string, ArtifactReference>());

    }

    private sealed class TextTask : IRunTask
    {
        public static readonly TextTask Instance = new();

        public IStageBackend Backend(IServiceProvider services) => services.GetRequiredService<TextStages>();

        public void Check(RunConfig config) => _ = TextRunInputs.Read(config);

        public void DryRun(RunConfig config, TextWriter output)
        {
            var inputs = TextRunInputs.Read(config);
            var sftExamples = config.Data.Sft is { } sft ? SftDatasets.Read(sft).Count : 0;
            var m = inputs.Model;
            output.WriteLine($"model        {config.Model.Path}: {m.Architecture}, {m.Layers} layers, hidden {m.HiddenSize}, vocab {m.VocabSize}");
            if (config.Model.PmPath is { } pm) output.WriteLine($"PM base      {pm}: {inputs.PmModel.Architecture}, {inputs.PmModel.Layers} layers");
            output.WriteLine($"principles   {string.Join(", ", config.Principles)}; baseline '{config.Baseline}'; scalarization '{config.Scalarization}'");
            output.WriteLine($"prompts      {inputs.PairPrompts.Count} for pairs, {inputs.EvaluationPrompts.Count} for evaluation (disjoint), longest {inputs.LongestPromptTokens} tokens");
            output.WriteLine($"human pairs  {inputs.Human.Count} ({config.Data.Human})");
            output.WriteLine($"judge        {config.Judge.Model} at {config.Judge.Endpoint}");
            output.Write(TextRunCosts.Of(config, sftExamples).Describe());
            output.WriteLine("dry run: the config and its inputs are valid; nothing was started");
        }

        public async Task<SortedDictionary<string, ArtifactReference>> PutInputsAsync(IArtifactStore store, RunConfig config, CancellationToken cancel) =>
            (await TextRunStore.PutAsync(store, config, cancel)).Inputs;
    }
}
