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
    [InlineData("""{ "grids": [ { "algorithms": ["ppo", "dpo"] } ] }""", "grids[0].algorithms[1]")]
    [InlineData("""{ "grids": [ { "algorithms": ["grpo", "ppo", "grpo"] } ] }""", "grids[0].algorithms[2]")]
    [InlineData("""{ "grids": [ { "algorithms": [] } ] }""", "grids[0].algorithms")]
    [InlineData("""{ "grids": [ { "algorithms": ["grpo"], "ppo": { "fast": { "algorithm": "rloo" } } } ] }""", "grids[0].ppo.fast.algorithm")]
    [InlineData("""{ "grids": [ { "algorithms": ["ppo", "grpo"], "ppo": { "wide": { "rolloutsPerIteration": 30 } } } ] }""", "grids[0].ppo.wide")]
    [InlineData("""{ "grids": [ { "seeds": [1] }, { "algorithms": ["rloo"], "ppo": { "g1": { "groupSize": 1 } } } ] }""", "grids[1].ppo.g1")]
    [InlineData("""{ "klLevels": [1, 0], "grids": [ { "seeds": [1] } ] }""", "klLevels[1]")]
    [InlineData("""{ "grids": [ { "baselineArms": ["baseline", "baseline-pool"] } ] }""", "grids[0].baselineArms[1]")]
    [InlineData("""{ "grids": [ { "baselineArms": ["baseline", "baseline-pooled", "baseline-pooled"] } ] }""", "grids[0].baselineArms[2]")]
    [InlineData("""{ "grids": [ { "baselineArms": ["baseline-pooled"] } ] }""", "grids[0].baselineArms")]
    [InlineData("""{ "grids": [ { "armPpo": { "nash": { "learningRate": 1e-4 } } } ] }""", "grids[0].armPpo.nash")]
    [InlineData("""{ "grids": [ { "armPpo": { "linear": { "learningRate": -1 } } } ] }""", "grids[0].armPpo.linear")]
    [InlineData("""{ "grids": [ { "armPpo": { "linear": { "algorithm": "grpo" } } } ] }""", "grids[0].armPpo.linear.algorithm")]
    [InlineData("""{ "grids": [ { "algorithms": ["ppo"], "armPpo": { "linear": { "learningRate": 1e-4 } } } ] }""", "grids[0].armPpo")]
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

    [Fact]
    public void Matched_budget_baselines_are_arms_of_their_cell_and_their_pms_are_trained_even_without_policies()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("morlaif-experiment-").FullName, "experiment.json");
        File.WriteAllText(path, """
            { "grids": [ { "seeds": [7], "baselineArms": ["baseline", "baseline-pooled", "baseline-ensemble", "baseline-human"] },
                         { "seeds": [8], "baselineArms": ["baseline-ensemble"], "policies": false },
                         { "seeds": [9], "baselineArms": ["baseline", "baseline-pooled"], "ppo": { "slow": { "learningRate": 5e-5 } } } ] }
            """);
        var (experiment, run) = ExperimentConfig.Load(path);
        var (policies, fitOnly, tuned) = (experiment.Cells(run)[0], experiment.Cells(run)[1], experiment.Cells(run)[2]);
        Assert.Equal(["sft", "baseline", "baseline-pooled", "baseline-ensemble", "baseline-human", "linear"], policies.Arms);
        var config = policies.PipelineConfig(run);
        Assert.True(config.TrainsMatchedPms && config.TrainsControlPm);
        Assert.Equal([ScalarizationStage.PooledArm, ScalarizationStage.EnsembleArm], config.PolicyArms.Skip(1).Take(2).Select(a => a.Reward));
        Assert.Null(config.Arm("baseline-pooled").Scalarization);
        Assert.Equal(7, PmQuestions.Draws(config).Count);

        Assert.Empty(fitOnly.Arms);
        Assert.True(fitOnly.PipelineConfig(run).MatchedBudget);
        Assert.Equal(["sft", "baseline@slow", "baseline-pooled@slow", "linear@slow"], tuned.Arms);
        Assert.Equal(ScalarizationStage.PooledArm, tuned.PipelineConfig(run).Arm("baseline-pooled@slow").Reward);
        // Each policy its own PPO settings where the grid names them, the run's otherwise.
        File.WriteAllText(path, """{ "grids": [ { "seeds": [7], "scalarizations": ["linear", "worst-case"], "armPpo": { "linear": { "learningRate": 4e-4 }, "baseline-human": { "learningRate": 1e-4 } } } ] }""");
        (experiment, run) = ExperimentConfig.Load(path);
        config = experiment.Cells(run)[0].PipelineConfig(run);
        Assert.Equal((4e-4, run.Ppo.LearningRate, 1e-4, run.Ppo.LearningRate),
            (config.ForArm(config.Arm("linear")).Ppo.LearningRate, config.ForArm(config.Arm("worst-case")).Ppo.LearningRate,
             config.ForArm(config.Arm("baseline-human")).Ppo.LearningRate, config.ForArm(config.Arm("baseline")).Ppo.LearningRate));
        Assert.Equal(run.Ppo with { LearningRate = 4e-4 }, config.ForArm(config.Arm("linear")).Ppo);
        // Without baselineArms, as before: the baseline and the control, or the baseline alone under named settings.
        Assert.False(new ExperimentCell(1, 100, "constitution", ["linear"]).MatchedBudget);
    }

    [Fact]
    public void An_unknown_algorithm_is_named_with_the_known_ones_and_a_bad_merge_with_its_algorithm_and_field()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-experiment-").FullName;
        ConfigException Fails(string json)
        {
            File.WriteAllText(Path.Combine(dir, "experiment.json"), json);
            return Assert.Throws<ConfigException>(() => ExperimentConfig.Load(Path.Combine(dir, "experiment.json")));
        }
        Assert.EndsWith("field 'grids[0].algorithms[0]': unknown algorithm 'dpo' (known: ppo, grpo, rloo)", Fails("""{ "grids": [ { "algorithms": ["dpo"] } ] }""").Message);
        Assert.EndsWith("field 'grids[0].algorithms[1]': lists 'grpo' twice", Fails("""{ "grids": [ { "algorithms": ["grpo", "grpo"] } ] }""").Message);
        // PPO takes 30 rollouts; GRPO cannot split them into groups of 4: the message names the setting, the algorithm and the field.
        var e = Fails("""{ "grids": [ { "algorithms": ["ppo", "grpo"], "ppo": { "wide": { "rolloutsPerIteration": 30 } } } ] }""");
        Assert.Contains("field 'grids[0].ppo.wide' as 'grids[0].algorithms[1]' field 'ppo.rolloutsPerIteration': must be a multiple of ppo.groupSize", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // The same with the run config's own settings: the algorithm's entry is the field.
        File.WriteAllText(Path.Combine(dir, "run.json"), """{ "ppo": { "rolloutsPerIteration": 30 } }""");
        Assert.Contains("field 'grids[0].algorithms[1]' field 'ppo.rolloutsPerIteration'",
            Fails("""{ "run": "run.json", "grids": [ { "algorithms": ["ppo", "rloo"] } ] }""").Message);
    }

    [Fact]
    public void Algorithms_train_every_policy_under_each_crossed_with_named_settings()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("morlaif-experiment-").FullName, "experiment.json");
        File.WriteAllText(path, """
            { "grids": [ { "seeds": [7], "algorithms": ["ppo", "grpo"] },
                         { "seeds": [8], "algorithms": ["rloo", "ppo"], "ppo": { "slow": { "learningRate": 5e-5 } } } ] }
            """);
        var (experiment, run) = ExperimentConfig.Load(path);
        var (alone, crossed) = (experiment.Cells(run)[0], experiment.Cells(run)[1]);

        // Without named settings, the run config's own under each algorithm: ARM@ALGORITHM.
        Assert.Equal(["sft", "baseline@ppo", "linear@ppo", "baseline@grpo", "linear@grpo"], alone.Arms);
        var config = alone.PipelineConfig(run);
        Assert.Equal(run.Ppo with { Algorithm = "grpo" }, config.ForArm(config.Arm("linear@grpo")).Ppo);
        Assert.Equal(run.Ppo, config.ForArm(config.Arm("baseline@ppo")).Ppo);
        Assert.Equal(ScalarizationStage.BaselineArm, config.Arm("baseline@grpo").Reward);

        // With them, every setting under every algorithm: ARM@NAME-ALGORITHM.
        Assert.Equal(["sft", "baseline@slow-rloo", "linear@slow-rloo", "baseline@slow-ppo", "linear@slow-ppo"], crossed.Arms);
        config = crossed.PipelineConfig(run);
        Assert.Equal(run.Ppo with { Algorithm = "rloo", LearningRate = 5e-5 }, config.ForArm(config.Arm("linear@slow-rloo")).Ppo);
        Assert.Equal(run.Ppo with { LearningRate = 5e-5 }, config.ForArm(config.Arm("baseline@slow-ppo")).Ppo);
        Assert.Equal(("linear", "slow-rloo"), ExperimentCell.ParseArm("linear@slow-rloo"));
        Assert.Equal([new ExperimentConfig.PpoVariant("slow-rloo", "slow", "rloo"), new ExperimentConfig.PpoVariant("slow-ppo", "slow", "ppo")],
            experiment.Grids[1].Variants(1)!.Select(v => v.Variant));

        // A grid without algorithms keeps its arms and the run config's algorithm.
        Assert.Null(new ExperimentConfig.GridConfig().Variants(0));
    }
}
