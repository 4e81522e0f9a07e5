using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>
/// Runs tests/reference/hf_reference.py (plain torch, written from transformers' modelling code) on a
/// checkpoint folder. Debian's python3-torch is what tests/reference/install.sh installs; /usr/bin/python3 is
/// preferred because a pyenv or venv python3 earlier on PATH does not see Debian's dist-packages.
/// MORLAIF_REFERENCE_PYTHON overrides the interpreter.
/// </summary>
internal static class PythonReference
{
    /// <param name="Scores">a LoRA PM adapter's score of each row (only when the adapter has a score head)</param>
    public sealed record Result(float[][][] Logits, int[][] Greedy, double? MinGap, double[]? Scores = null);

    private static readonly Lazy<string> Script = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "reference", "hf_reference.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("tests/reference/hf_reference.py not found above " + AppContext.BaseDirectory);
    });

    private static string Python =>
        Environment.GetEnvironmentVariable("MORLAIF_REFERENCE_PYTHON") is { Length: > 0 } p ? p
        : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <param name="adapter">a PEFT LoRA adapter folder the reference merges into the weights first</param>
    public static Result Run(string folder, int[][] ids, int greedy, int[]? eos = null, string? adapter = null)
    {
        var psi = new ProcessStartInfo(Python, [Script.Value])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Debian's OpenBLAS misdetects this CPU model and crashes without being told its core type.
        psi.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + Python);
        var request = new JsonObject
        {
            ["folder"] = folder,
            ["ids"] = new JsonArray(ids.Select(r => (JsonNode)new JsonArray(r.Select(i => (JsonNode)i).ToArray())).ToArray()),
            ["greedy"] = greedy,
            ["eos"] = new JsonArray((eos ?? []).Select(i => (JsonNode)i).ToArray()),
            ["adapter"] = adapter,
        };
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000)) { process.Kill(); throw new TimeoutException("the reference took over 120 s"); }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Python} {Script.Value} exited {process.ExitCode} (is Debian's python3-torch installed? bash tests/reference/install.sh):\n{stderr.Result}");
        var doc = JsonNode.Parse(stdout)!;
        return new Result(
            doc["logits"]!.Deserialize<float[][][]>()!,
            doc["greedy"]!.Deserialize<int[][]>()!,
            doc["min_gap"]?.GetValue<double>(),
            doc["scores"]?.Deserialize<double[]>());
    }
}
