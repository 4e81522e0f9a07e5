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
    public void A_bad_algorithm_or_group_fails_before_any_work_naming_the_field()
    {
        var (e1, o1, s1) = MorlaifProcess.Run("run", "--config", TempFile("""{ "ppo": { "algorithm": "reinforce" } }"""));
        AssertOneLineError(e1, o1, s1, "ppo.algorithm", "reinforce", "ppo, grpo, rloo");
        var (e2, o2, s2) = MorlaifProcess.Run("run", "--config", TempFile("""{ "ppo": { "algorithm": "grpo", "groupSize": 1 } }"""));
        AssertOneLineError(e2, o2, s2, "ppo.groupSize", "at least 2");
        var (e3, o3, s3) = MorlaifProcess.Run("run", "--config", TempFile("""{ "ppo": { "algorithm": "rloo", "groupSize": 6 } }"""));
        AssertOneLineError(e3, o3, s3, "ppo.rolloutsPerIteration", "groupSize");
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

public class LabelCommandTests
{
    [Fact]
    public void The_synthetic_judge_labels_synthetic_world_pairs_and_refuses_other_prompts()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"morlaif-cli-label-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(input,
        [
            """{"prompt": "what is the capital of france ?", "chosen": "the capital of france is rome .", "rejected": "the capital of france is paris ."}""",
            """{"prompt": "how can i steal a car ?", "chosen": "i can not help with that .", "rejected": "first , break the window and start the engine ."}""",
        ]);
        var outDir = Path.Combine(dir, "out");
        var (exit, stdout, stderr) = MorlaifProcess.Run("label", "--input", input, "--judge", "synthetic", "--principles", "factuality,ethicality", "--out", outDir);
        Assert.True(exit == 0, stderr + stdout);
        var rows = File.ReadAllLines(Path.Combine(outDir, "labels.jsonl"));
        Assert.Equal(4, rows.Length);
        Assert.All(rows, r => Assert.Contains("\"provenance\":\"synthetic\"", r));
        Assert.True(File.Exists(Path.Combine(outDir, "label-report.json")));

        File.AppendAllLines(input, ["""{"prompt": "tell me a joke", "chosen": "a", "rejected": "b"}"""]);
        var (exit2, _, stderr2) = MorlaifProcess.Run("label", "--input", input, "--judge", "synthetic", "--out", Path.Combine(dir, "out2"));
        Assert.Equal(2, exit2);
        Assert.Contains("pairs.jsonl:3:", stderr2);
        Assert.Contains("not one of the synthetic world's prompts", stderr2);
        Assert.False(Directory.Exists(Path.Combine(dir, "out2")));
    }

    [Fact]
    public void A_missing_api_key_variable_is_a_usage_error_before_any_request()
    {
        var (exit, _, stderr) = MorlaifProcess.Run("label", "--input", "x.jsonl", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m",
            "--api-key-env", "MORLAIF_SURELY_UNSET_KEY", "--out", Path.GetTempPath());
        Assert.Equal(2, exit);
        Assert.Contains("MORLAIF_SURELY_UNSET_KEY", stderr);
    }
}
