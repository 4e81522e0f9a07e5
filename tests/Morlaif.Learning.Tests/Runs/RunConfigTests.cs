using Morlaif.Learning.Runs;

namespace Morlaif.Learning.Tests.Runs;

public class RunConfigTests
{
    private static string Error(string json) => Assert.Throws<ConfigException>(() => RunConfig.Parse(json, "cfg.json")).Message;

    [Fact]
    public void The_built_in_default_is_valid() => new RunConfig().Validate();

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
