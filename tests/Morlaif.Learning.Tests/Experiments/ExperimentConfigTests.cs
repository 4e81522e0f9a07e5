using Morlaif.Learning.Experiments;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;

namespace Morlaif.Learning.Tests.Experiments;

public class ExperimentConfigTests
{
    [Theory]
    [InlineData("""{ "grids": [] }""", "grids")]
    [InlineData("""{ "grids": [ { "seeds": [1, 1] } ] }""", "grids[0].seeds")]
    [InlineData("""{ "grids": [ { "scalarizations": ["nash"] } ] }""", "grids[0].scalarizations[0]")]
    [InlineData("""{ "grids": [ { "budgets": [0] } ] }""", "grids[0].budgets[0]")]
    [InlineData("""{ "grids": [ { "baselines": ["oracle"] } ] }""", "grids[0].baselines[0]")]
    [InlineData("""{ "grid": [] }""", "grid")]
    [InlineData("""{ "grids": [ { "ppo": { "fast": { "learningRate": -1 } } } ] }""", "grids[0].ppo.fast")]
    [InlineData("""{ "grids": [ { "ppo": { "fast": { "lr": 0.1 } } } ] }""", "grids[0].ppo.fast")]
    public void A_bad_experiment_file_names_the_field(string json, string field)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("morlaif-experiment-").FullName, "experiment.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<ConfigException>(() => ExperimentConfig.Load(path));
        Assert.Contains($"'{field}'", e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void Named_ppo_settings_train_every_policy_under_each_as_its_own_arm()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("morlaif-experiment-").FullName, "experiment.json");
        File.WriteAllText(path, """{ "grids": [ { "seeds": [7], "ppo": { "slow": { "learningRate": 5e-5 }, "long": { "iterations": 80 } } } ] }""");
        var (experiment, run) = ExperimentConfig.Load(path);
        var cell = Assert.Single(experiment.Cells(run));
        Assert.Equal(["sft", "baseline@slow", "linear@slow", "baseline@long", "linear@long"], cell.Arms);
        // The cell is one pipeline run whose arms are the policies but SFT, each with its reward, scalarization and PPO settings.
        var config = cell.PipelineConfig(run);
        Assert.Equal(cell.Arms.Skip(1), config.PolicyArms.Select(a => a.Name));
        Assert.True(config.TrainsControlPm);
        var slow = config.ForArm(config.Arm("linear@slow"));
        Assert.Equal((5e-5, run.Ppo.Iterations, "linear", 7L), (slow.Ppo.LearningRate, slow.Ppo.Iterations, slow.Scalarization, slow.Seed));
        var longBaseline = config.ForArm(config.Arm("baseline@long"));
        Assert.Equal((run.Ppo.LearningRate, 80, ScalarizationStage.BaselineArm), (longBaseline.Ppo.LearningRate, longBaseline.Ppo.Iterations, config.Arm("baseline@long").Reward));
        Assert.Equal(("linear", "slow"), ExperimentCell.ParseArm("linear@slow"));
        Assert.Equal(("baseline-human", (string?)null), ExperimentCell.ParseArm("baseline-human"));
    }
}
