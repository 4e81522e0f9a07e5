namespace Morlaif.Cli.Tests;

public class ExperimentCommandTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void A_tiny_experiment_writes_its_tables_and_charts()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-cli-experiment-").FullName;
        File.WriteAllText(Path.Combine(dir, "run.json"), """
            { "principles": ["helpfulness", "conciseness"], "model": { "dModel": 32, "layers": 1, "heads": 2 },
              "sft": { "demonstrations": 400, "epochs": 1, "batchSize": 64 },
              "pairs": { "train": 60, "test": 30, "human": 30, "accuracy": 60 }, "preferenceModel": { "epochs": 1 },
              "ppo": { "iterations": 3, "rolloutsPerIteration": 16, "maxNewTokens": 24 }, "evaluation": { "prompts": 20 } }
            """);
        File.WriteAllText(Path.Combine(dir, "experiment.json"), """
            { "run": "run.json", "grids": [ { "seeds": [1, 2] }, { "seeds": [1, 2], "budgets": [30, 60], "policies": false } ] }
            """);
        var (exit, stdout, stderr) = MorlaifProcess.Run("experiment", "--config", Path.Combine(dir, "experiment.json"));
        Assert.True(exit == 0, stderr + stdout);
        var results = Path.Combine(dir, "results");
        var md = File.ReadAllText(Path.Combine(results, "experiment.md"));
        Assert.Contains("| linear | baseline | 2 | 40 |", md);
        Assert.Contains("| 30 | 2 |", md);
        foreach (var png in new[] { "policies.png", "budgets.png", "ablation.png", "ppo.png" })
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(results, png))[..4]);

        // A rerun trains nothing: each of the four cells the grids name (two of them twice) is skipped.
        var (again, stdout2, _) = MorlaifProcess.Run("experiment", "--config", Path.Combine(dir, "experiment.json"));
        Assert.Equal(0, again);
        Assert.Equal(4, stdout2.Split('\n').Count(l => l.Contains("skipped")));

        // The cells' result files alone (what the repository commits: no models, no log) rebuild the same report.
        var json = File.ReadAllText(Path.Combine(results, "experiment.json"));
        Directory.Delete(Path.Combine(results, ".store"), recursive: true);
        foreach (var f in Directory.GetFiles(results)) File.Delete(f);
        var (rebuilt, stdout3, stderr3) = MorlaifProcess.Run("experiment", "--config", Path.Combine(dir, "experiment.json"), "--report-only");
        Assert.True(rebuilt == 0, stderr3 + stdout3);
        Assert.Contains("the report from 4 of 4 cells", stdout3);
        Assert.Equal(json, File.ReadAllText(Path.Combine(results, "experiment.json")));
        Assert.Equal(md, File.ReadAllText(Path.Combine(results, "experiment.md")));
        foreach (var png in new[] { "policies.png", "budgets.png", "ablation.png", "ppo.png" }) Assert.True(File.Exists(Path.Combine(results, png)), png);
        Assert.False(Directory.Exists(Path.Combine(results, ".store")), "--report-only trained something");

        // With no results to report on: one line naming the folder.
        Directory.Delete(Path.Combine(results, "cells"), recursive: true);
        var (none, _, stderr4) = MorlaifProcess.Run("experiment", "--config", Path.Combine(dir, "experiment.json"), "--report-only");
        Assert.Equal(2, none);
        Assert.Single(stderr4.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Path.Combine(results, "cells"), stderr4);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_bad_grid_is_one_line_naming_the_field()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("morlaif-cli-experiment-").FullName, "experiment.json");
        File.WriteAllText(path, """{ "grids": [ { "scalarizations": ["nash"] } ] }""");
        var (exit, _, stderr) = MorlaifProcess.Run("experiment", "--config", path);
        Assert.Equal(2, exit);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("grids[0].scalarizations[0]", stderr);
    }
}
