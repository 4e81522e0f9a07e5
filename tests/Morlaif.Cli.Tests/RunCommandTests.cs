namespace Morlaif.Cli.Tests;

public class RunCommandTests
{
    private static string TempFile(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-cli-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertOneLineError(int exit, string stdout, string stderr, params string[] expected)
    {
        Assert.Equal(2, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        foreach (var e in expected) Assert.Contains(e, lines[0]);
        Assert.DoesNotContain("stage", stdout); // failed before any work
    }

    [Fact]
    public void An_unknown_principle_fails_before_any_work_naming_the_field()
    {
        var cfg = TempFile("""{ "principles": ["helpfulness", "bravery"] }""");
        var outDir = Path.Combine(Path.GetTempPath(), $"morlaif-out-{Guid.NewGuid():N}");
        var (exit, stdout, stderr) = MorlaifProcess.Run("run", "--config", cfg, "--out", outDir);
        AssertOneLineError(exit, stdout, stderr, cfg, "principles[1]", "bravery");
        Assert.False(Directory.Exists(outDir)); // nothing partial is kept
    }

    [Fact]
    public void An_unknown_function_and_a_negative_size_name_their_fields()
    {
        var (e1, o1, s1) = MorlaifProcess.Run("run", "--config", TempFile("""{ "scalarization": "nash" }"""));
        AssertOneLineError(e1, o1, s1, "scalarization", "nash");
        var (e2, o2, s2) = MorlaifProcess.Run("run", "--config", TempFile("""{ "sft": { "epochs": -1 } }"""));
        AssertOneLineError(e2, o2, s2, "sft.epochs", "-1");
    }

    [Fact]
    public void An_unreadable_config_file_is_one_clear_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-morlaif-config.json");
        var (exit, stdout, stderr) = MorlaifProcess.Run("run", "--config", missing);
        AssertOneLineError(exit, stdout, stderr, missing, "cannot be read");
    }

    [Fact]
    public void Bad_options_are_usage_errors()
    {
        var (e1, o1, s1) = MorlaifProcess.Run("run", "--sed", "3");
        AssertOneLineError(e1, o1, s1, "--sed");
        var (e2, o2, s2) = MorlaifProcess.Run("run", "--seed", "three");
        AssertOneLineError(e2, o2, s2, "--seed", "three");
        var (e3, o3, s3) = MorlaifProcess.Run("run", "--device", "tpu");
        AssertOneLineError(e3, o3, s3, "--device", "tpu");
        var (e4, o4, s4) = MorlaifProcess.Run("frobnicate");
        AssertOneLineError(e4, o4, s4, "frobnicate");
    }
}
