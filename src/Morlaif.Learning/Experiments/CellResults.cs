using System.Text.Json;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.Experiments;

/// <summary>
/// What a cell's shared stages measured: every objective's accuracy on the truth-decided pairs, which of those pairs
/// each objective ranked right ('1'/'0' per pair, for McNemar's test), the ablation, the PMs and the weights.
/// </summary>
/// <paramref name="Machine"/>: where the cell was computed and with how many torch threads (float results follow both;
/// absent in cells written before it was recorded).
public sealed record FitResult(long Seed, int Budget, string Baseline, IReadOnlyDictionary<string, double> ObjectiveAccuracy,
    IReadOnlyDictionary<string, string> Correct, IReadOnlyList<AblationPoint> Ablation,
    IReadOnlyDictionary<string, PreferenceModelStats> PreferenceModels, IReadOnlyDictionary<string, double> Weights, double Seconds,
    string? Machine = null);

/// <summary>
/// The control PM of a cell (the baseline's question trained on its AI labels plus the human labels): its accuracy on
/// the same truth-decided pairs as the fit's objectives, which pairs it ranked right, and its held-out statistics.
/// </summary>
public sealed record ControlResult(long Seed, int Budget, string Baseline, double Accuracy, string Correct, PreferenceModelStats Stats, double Seconds);

/// <summary>
/// One policy of a cell on the evaluation prompts: each response's true preference, prompt by prompt with
/// <paramref name="Samples"/> responses each (the last <paramref name="Unseen"/> prompts asked with unseen templates),
/// and its PPO iterations. <paramref name="Seconds"/>: the wall time of the arm's PPO chunks, summed, each from its
/// start to its completion (rollouts, scoring, advantages, updates, the world's truth on the rollouts, the checkpoint
/// after every iteration); not the time a chunk waited behind other arms' chunks. Cells written before the runner
/// summed the chunks hold the run report's PPO timing instead: the first chunk's start to the last's completion.
/// </summary>
public sealed record PolicyResult(long Seed, int Budget, string Baseline, string Arm, IReadOnlyList<double> Truth,
    IReadOnlyList<PpoIterationStats> Ppo, double Seconds, int Samples = 1, int Unseen = 0)
{
    /// <summary>The arm's policy at the end of each PPO chunk (evaluation.path), the last being <see cref="Truth"/>'s; null where not asked.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Stages.PathPoint>? Path { get; init; }

    public int Prompts => Truth.Count / Samples;

    /// <summary>Each prompt's true preference as the mean of its samples (a prompt's samples are not independent: it counts once).</summary>
    public double[] PerPrompt(Func<int, double>? value = null) =>
        [.. Enumerable.Range(0, Prompts).Select(p => Enumerable.Range(p * Samples, Samples).Average(value ?? (i => Truth[i])))];

    /// <summary>Per prompt, the outcome of each sample against <paramref name="other"/>'s same sample (+1, 0, -1).</summary>
    public List<int[]> Against(PolicyResult other, double tolerance, bool unseenOnly = false) =>
    [
        .. Enumerable.Range(unseenOnly ? Prompts - Unseen : 0, unseenOnly ? Unseen : Prompts).Select(p => Enumerable.Range(p * Samples, Samples)
            .Select(i => Evaluation.WinTieLoss.Compare(Truth[i], other.Truth[i], tolerance)).ToArray()),
    ];
}

/// <summary>
/// A cell's results (DIR/cells/ID): fit.json, control.json and policy-ARM.json, taken from the cell's pipeline run
/// (its manifest and artifacts in DIR/.store). Each file is written whole under a temporary name and renamed, so a
/// killed experiment leaves finished files or none: a rerun trusts what it finds.
/// </summary>
public sealed class CellFiles(string root, ExperimentCell cell)
{
    public string Folder => Path.Combine(root, "cells", cell.Id);

    public string FitPath => Path.Combine(Folder, "fit.json");

    public string ControlPath => Path.Combine(Folder, "control.json");

    public string PolicyPath(string arm) => Path.Combine(Folder, $"policy-{arm}.json");

    /// <summary>True when every result the cell asks for is on disk.</summary>
    public bool Complete => File.Exists(FitPath) && File.Exists(ControlPath) && cell.Arms.All(a => File.Exists(PolicyPath(a)));

    public static void Write<T>(string path, T value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(value, RunConfig.Json));
        File.Move(tmp, path, overwrite: true);
    }

    public static T Read<T>(string path) =>
        JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), RunConfig.Json) ?? throw new InvalidDataException($"{path}: is empty");
}
