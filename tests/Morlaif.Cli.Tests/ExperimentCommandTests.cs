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
