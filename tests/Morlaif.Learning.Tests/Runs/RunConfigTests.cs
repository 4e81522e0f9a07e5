using Morlaif.Learning.Runs;

namespace Morlaif.Learning.Tests.Runs;

public class RunConfigTests
{
    private static string Error(string json) => Assert.Throws<ConfigException>(() => RunConfig.Parse(json, "cfg.json")).Message;

    [Fact]
    public void The_built_in_default_is_valid() => new RunConfig().Validate();

    [Fact]
    public void Ppo_needs_no_group_and_its_group_size_is_not_checked()
    {
        // groupSize only shapes GRPO's and RLOO's rollouts: PPO with a group of 1 and 64 rollouts is valid.
        var config = RunConfig.Parse("""{ "ppo": { "groupSize": 1 } }""");
        Assert.Equal(1, config.Ppo.PromptGroup);
        Assert.False(config.Ppo.CriticFree);
        Assert.Equal(4, RunConfig.Parse("""{ "ppo": { "algorithm": "rloo" } }""").Ppo.PromptGroup);
    }

    [Fact]
    public void The_monitor_is_on_for_text_and_off_in_the_world_unless_set()
    {
        var world = new RunConfig();
        Assert.False(world.MonitorOn(world.Ppo));
        Assert.True(world.MonitorOn(world.Ppo with { Monitor = new() { Enabled = true } }));
        var text = world with { Task = RunConfig.TextTask };
        Assert.True(text.MonitorOn(text.Ppo));
        Assert.False(text.MonitorOn(text.Ppo with { Monitor = new() { Enabled = false } }));
    }

    [Fact]
    public void Arms_default_to_morlaif_and_the_baseline_and_each_may_set_its_own_scalarization_and_ppo()
    {
        Assert.Equal(["morlaif", "baseline"], new RunConfig().PolicyArms.Select(a => a.Name));
        var c = RunConfig.Parse("""
            { "arms": [ { "name": "worst", "scalarization": "worst-case", "ppo": { "iterations": 2 } }, { "name": "base", "reward": "baseline" },
                        { "name": "control", "reward": "baseline-human" } ] }
            """);
        var worst = c.ForArm(c.Arm("worst"));
        Assert.Equal(("worst-case", 2, c.Seed), (worst.Scalarization, worst.Ppo.Iterations, worst.Seed));
        Assert.Equal((c.Scalarization, c.Ppo), (c.ForArm(c.Arm("base")).Scalarization, c.ForArm(c.Arm("base")).Ppo));
        Assert.Equal(("worst", "base"), (c.ComparedArms!.Value.Morlaif.Name, c.ComparedArms.Value.Baseline.Name));
        Assert.True(c.TrainsControlPm); // the control arm needs the control PM
        Assert.False(new RunConfig().TrainsControlPm);
        Assert.Null(RunConfig.Parse("""{ "arms": [] }""").ComparedArms); // no policies: the run stops at the objective fit
        Assert.Contains("this run's: worst, base, control", Assert.Throws<ArgumentException>(() => c.Arm("nope")).Message);
    }

    [Fact]
    public void A_partial_file_keeps_the_defaults_for_the_rest()
    {
        var c = RunConfig.Parse("""
            { "seed": 7, "ppo": { "iterations": 3 } // a comment
            }
            """);
        Assert.Equal(7, c.Seed);
        Assert.Equal(3, c.Ppo.Iterations);
        Assert.Equal(new RunConfig().Ppo.ClipRange, c.Ppo.ClipRange);
    }

    [Theory]
    [InlineData("""{ "principles": ["helpfulness", "bravery"] }""", "principles[1]", "bravery")]
    [InlineData("""{ "principles": ["detail", "detail"] }""", "principles[1]", "twice")]
    [InlineData("""{ "principles": [] }""", "principles", "at least one")]
    [InlineData("""{ "scalarization": "nash" }""", "scalarization", "'nash'")]
    [InlineData("""{ "pairs": { "train": -5 } }""", "pairs.train", "-5")]
    [InlineData("""{ "ppo": { "rolloutsPerIteration": 0 } }""", "ppo.rolloutsPerIteration", "positive")]
    [InlineData("""{ "model": { "dModel": 64, "heads": 5 } }""", "model.heads", "divide")]
    [InlineData("""{ "model": { "contextLength": 20 } }""", "model.contextLength", "at least")]
    [InlineData("""{ "ppo": { "gamma": 1.5 } }""", "ppo.gamma", "[0, 1]")]
    [InlineData("""{ "baseline": "oracle" }""", "baseline", "'oracle'")]
    [InlineData("""{ "arms": [ { "name": "a", "reward": "oracle" }, { "name": "b", "reward": "baseline" } ] }""", "arms[0].reward", "'oracle'")]
    [InlineData("""{ "arms": [ { "name": "m" }, { "name": "m", "reward": "baseline" } ] }""", "arms[1].name", "twice")]
    [InlineData("""{ "arms": [ { "name": "M/1" }, { "name": "b", "reward": "baseline" } ] }""", "arms[0].name", "lower-case")]
    [InlineData("""{ "arms": [ { "name": "sft" }, { "name": "b", "reward": "baseline" } ] }""", "arms[0].name", "not 'sft'")]
    [InlineData("""{ "arms": [ { "name": "m", "scalarization": "nash" }, { "name": "b", "reward": "baseline" } ] }""", "arms[0].scalarization", "'nash'")]
    [InlineData("""{ "arms": [ { "name": "m" }, { "name": "b", "reward": "baseline", "scalarization": "linear" } ] }""", "arms[1].scalarization", "reward 'morlaif'")]
    [InlineData("""{ "arms": [ { "name": "m", "ppo": { "gamma": 2 } }, { "name": "b", "reward": "baseline" } ] }""", "arms[0].ppo.gamma", "[0, 1]")]
    [InlineData("""{ "arms": [ { "name": "m" } ] }""", "arms", "reward 'baseline'")]
    [InlineData("""{ "ppo": { "algorithm": "dpo" } }""", "ppo.algorithm", "'dpo' (known: ppo, grpo, rloo)")]
    [InlineData("""{ "ppo": { "algorithm": "grpo", "groupSize": 1 } }""", "ppo.groupSize", "at least 2")]
    [InlineData("""{ "ppo": { "algorithm": "rloo", "groupSize": 5 } }""", "ppo.rolloutsPerIteration", "multiple of ppo.groupSize (64 rollouts in groups of 5)")]
    [InlineData("""{ "arms": [ { "name": "m", "ppo": { "algorithm": "grpo", "rolloutsPerIteration": 30, "groupSize": 4 } }, { "name": "b", "reward": "baseline" } ] }""",
        "arms[0].ppo.rolloutsPerIteration", "groups of 4")]
    [InlineData("""{ "ppo": { "rewardNormalization": "batch" } }""", "ppo.rewardNormalization", "'batch' (known: fixed, group)")]
    [InlineData("""{ "ppo": { "klLossCoef": -0.1 } }""", "ppo.klLossCoef", "zero or more")]
    [InlineData("""{ "ppo": { "monitor": { "enabled": true, "every": 0 } } }""", "ppo.monitor.every", "positive")]
    [InlineData("""{ "task": "text", "model": { "path": "m", "lora": { "pmTopLayers": 0 } }, "data": { "prompts": "p", "human": "h" }, "judge": { "kind": "openai", "endpoint": "http://x", "model": "j" } }""",
        "model.lora.pmTopLayers", "positive")]
    [InlineData("""{ "ppo": { "monitor": { "prompts": -3 } } }""", "ppo.monitor.prompts", "positive")]
    [InlineData("""{ "task": "text", "matchedBudget": true, "model": { "path": "m" }, "data": { "prompts": "p", "human": "h" }, "judge": { "kind": "openai", "endpoint": "http://x", "model": "j" } }""",
        "matchedBudget", "task 'world'")]
    [InlineData("""{ "task": "text", "model": { "path": "m" }, "data": { "prompts": "p", "human": "h" }, "judge": { "kind": "openai", "endpoint": "http://x", "model": "j" }, "arms": [ { "name": "m" }, { "name": "b", "reward": "baseline" }, { "name": "e", "reward": "baseline-ensemble" } ] }""", "arms[2].reward", "'baseline-ensemble' is for task 'world'")]
    public void Bad_values_name_the_field(string json, string field, string detail)
    {
        var message = Error(json);
        Assert.Contains($"field '{field}'", message);
        Assert.Contains(detail, message);
        Assert.StartsWith("cfg.json", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Unknown_fields_and_wrong_types_name_the_field()
    {
        Assert.Contains("'ppo.iteratons'", Error("""{ "ppo": { "iteratons": 3 } }"""));
        Assert.Contains("'seed'", Error("""{ "seed": "one" }"""));
        Assert.StartsWith("cfg.json", Error("{ not json"));
    }

    [Fact]
    public void An_unreadable_file_is_one_clear_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"morlaif-missing-{Guid.NewGuid():N}.json");
        var e = Assert.Throws<ConfigException>(() => RunConfig.Load(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("cannot be read", e.Message);
    }
}
