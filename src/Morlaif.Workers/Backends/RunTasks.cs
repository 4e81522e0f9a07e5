using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Contracts;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning.Runs;
using Morlaif.Learning.TextRuns;
using Morlaif.Storage;
using Morlaif.Workers.Text;

namespace Morlaif.Workers.Backends;

/// <summary>
/// What a run's task ("world" or "text") changes: the backend its stages compute with, what is checked and stored
/// before the run starts, what a dry run prints, and how its report is summed up. <see cref="RunTasks.For"/> is the
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

    /// <summary>A finished run's headline figures from its report.json, as (measure, value) rows.</summary>
    IEnumerable<(string Measure, string Value)> Summary(byte[] reportJson);
}

public static class RunTasks
{
    public static IRunTask For(RunConfig config) => config.Task == RunConfig.TextTask ? TextTask.Instance : WorldTask.Instance;

    private static string Percent(double x) => (100 * x).ToString("F1", CultureInfo.InvariantCulture) + "%";

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
            output.WriteLine("dry run: the config is valid; nothing was started");
        }

        public Task<SortedDictionary<string, ArtifactReference>> PutInputsAsync(IArtifactStore store, RunConfig config, CancellationToken cancel) =>
            Task.FromResult(new SortedDictionary<string, ArtifactReference>());

        public IEnumerable<(string, string)> Summary(byte[] reportJson)
        {
            var r = JsonSerializer.Deserialize<RunReport>(reportJson, RunConfig.Json)!;
            var e = r.Evaluation;
            yield return ("MORLAIF vs baseline (true preference) win/tie/loss", $"{Percent(e.VsBaseline.Win)} / {Percent(e.VsBaseline.Tie)} / {Percent(e.VsBaseline.Loss)}");
            yield return ("MORLAIF vs baseline (judge, both orders) win/tie/loss", $"{Percent(e.JudgeVsBaseline.Win)} / {Percent(e.JudgeVsBaseline.Tie)} / {Percent(e.JudgeVsBaseline.Loss)}");
            foreach (var (k, v) in e.MeanTrueScore) yield return ($"mean true preference: {k}", v.ToString("F3", CultureInfo.InvariantCulture));
            foreach (var (k, v) in r.ObjectiveAccuracy) yield return ($"objective accuracy: {k}", v.ToString("F3", CultureInfo.InvariantCulture));
            foreach (var (k, v) in r.PreferenceModels) yield return ($"PM held-out accuracy: {k}", v.HeldOutAccuracy.ToString("F3", CultureInfo.InvariantCulture));
            yield return ("total seconds", r.Timings["total"].ToString("F1", CultureInfo.InvariantCulture));
        }
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

        public IEnumerable<(string, string)> Summary(byte[] reportJson)
        {
            var r = JsonSerializer.Deserialize<TextRunReport>(reportJson, RunConfig.Json)!;
            var c = CultureInfo.InvariantCulture;
            string P(Share s) => string.Create(c, $"{100 * s.Value:F1}% [{100 * s.Low:F1}, {100 * s.High:F1}]");
            var e = r.JudgeVsBaseline;
            yield return ($"MORLAIF vs baseline (judge, both orders, {r.EvaluationPrompts} prompts) win / tie / loss", $"{P(e.Win)} / {P(e.Tie)} / {P(e.Loss)}");
            foreach (var (k, v) in r.Objective.Accuracy) yield return ($"objective accuracy on human pairs: {k}", v.ToString("F3", c));
            foreach (var (k, v) in r.PreferenceModels)
                yield return ($"PM {k}: loss before -> after, held-out accuracy", string.Create(c, $"{v.InitialLoss:F3} -> {v.FinalLoss:F3}, {v.HeldOutAccuracy:F3}"));
            yield return ("total seconds", r.TimingsSeconds["total"].ToString("F1", c));
        }
    }
}
