using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Morlaif.Cli.Tests;

/// <summary>`morlaif run` as people see it: a live table in a real pseudo-terminal, plain lines when redirected, the log in a file.</summary>
public partial class ProgressViewTests
{
    private const string RunJson = """
        { "principles": ["helpfulness", "conciseness"], "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 400, "epochs": 1, "batchSize": 64 },
          "pairs": { "train": 60, "test": 30, "human": 30, "accuracy": 60 }, "preferenceModel": { "epochs": 2 },
          "ppo": { "iterations": 6, "iterationsPerChunk": 3, "rolloutsPerIteration": 16, "maxNewTokens": 24 }, "evaluation": { "prompts": 20 } }
        """;

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Escape();

    [Fact]
    [Trait("Category", "Slow")]
    public void Redirected_output_is_one_plain_line_per_finished_step_and_the_log_goes_to_a_file()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-progress-").FullName;
        File.WriteAllText(Path.Combine(dir, "run.json"), RunJson);
        var (exit, stdout, stderr) = MorlaifProcess.Run("run", "--config", Path.Combine(dir, "run.json"), "--out", Path.Combine(dir, "out"));
        Assert.True(exit == 0, stderr + stdout);
        Assert.DoesNotContain('\u001b', stdout);
        var lines = stdout.Split('\n');
        // Every stage, PM and arm finishes on a line of its own, in pipeline order; PM lines carry the loss and held-out accuracy.
        string[] rows = ["sft done", "label 3/3 questions", "train-pm/helpfulness 2/2 epochs", "train-pm/conciseness 2/2 epochs", "scalarize done",
            "ppo/morlaif 6/6 iterations", "ppo/baseline 6/6 iterations", "evaluate done"];
        var at = rows.Select(r => Array.FindIndex(lines, l => l.Contains(r, StringComparison.Ordinal))).ToList();
        Assert.All(at, i => Assert.True(i >= 0, stdout));
        // Only what the pipeline orders: labels after SFT, the fit after every PM, PPO after the fit, the evaluation last
        // (the label row ends with its last question, which may come after another question's PM).
        Assert.True(at[0] < at[1] && at[2] < at[4] && at[3] < at[4] && at[4] < at[5] && at[4] < at[6] && at[5] < at[7] && at[6] < at[7], stdout);
        // Each step is told once.
        Assert.Single(lines, l => l.Contains("train-pm/helpfulness 2/2 epochs", StringComparison.Ordinal));
        Assert.Matches(@"train-pm/helpfulness 2/2 epochs, loss [0-9.]+, held-out acc [0-9.]+", lines[at[2]]);
        Assert.Matches(@"ppo/morlaif 6/6 iterations, reward -?[0-9.]+, KL -?[0-9.]+, truth -?[0-9.]+", lines[at[5]]);
        // No worker log on the console: it is in run.log beside the report, each line naming its stage record.
        Assert.DoesNotContain(lines, l => l.Contains(" info ", StringComparison.Ordinal));
        var runDir = Directory.GetDirectories(Path.Combine(dir, "out")).Single(d => !Path.GetFileName(d).StartsWith('.'));
        var log = File.ReadAllText(Path.Combine(runDir, "run.log"));
        Assert.Matches(@"\d\d:\d\d:\d\d info train-pm/helpfulness: run \S+: train-pm/helpfulness epoch 1/2", log);
        Assert.DoesNotContain("Morlaif.Workers.", log);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_terminal_gets_a_live_table_that_advances()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-progress-").FullName;
        File.WriteAllText(Path.Combine(dir, "run.json"), RunJson);
        var typescript = Path.Combine(dir, "typescript");
        // `script` runs the command in a real pseudo-terminal and records what it drew.
        var command = $"stty cols 120 rows 60; dotnet {TestServers.Processes.CliDll} run --config {dir}/run.json --out {dir}/out";
        var psi = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { "-q", "-f", "-e", "-c", command, typescript }) psi.ArgumentList.Add(a);
        psi.Environment["TERM"] = "xterm-256color";
        foreach (var name in psi.Environment.Keys.Where(n => n.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)).ToList()) psi.Environment.Remove(name);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(6)), "morlaif run in a pseudo-terminal did not finish");
        var drawn = File.ReadAllText(typescript);
        Assert.True(p.ExitCode == 0, drawn + await output);

        Assert.Contains('\u001b', drawn); // drawn with escape codes, redrawn in place
        var text = Escape().Replace(drawn, "").Replace("\r", "");
        var frames = text.Split("stage ").Skip(1).ToList();
        Assert.True(frames.Count >= 3, $"expected the table to be redrawn as the run advanced, got {frames.Count} frames:\n{text}");
        // The last frame: every row done, PPO at 6 of 6 iterations with its figures; an earlier frame had a row still waiting.
        var last = frames[^1];
        foreach (var row in new[] { "sft", "label", "train-pm/helpfulness", "train-pm/constitution", "scalarize", "ppo/morlaif", "ppo/baseline", "evaluate" })
            Assert.Contains(row, last);
        Assert.Matches(@"ppo/morlaif\s+━+ 6/6 it", last);
        Assert.Contains(frames, f => f.Contains("waiting", StringComparison.Ordinal));
        Assert.Contains("report: ", text);
        Directory.Delete(dir, recursive: true);
    }
}
