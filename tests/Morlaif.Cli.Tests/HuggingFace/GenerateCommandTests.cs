using System.Text.Json.Nodes;
using Morlaif.Learning.Tests.HuggingFace;

namespace Morlaif.Cli.Tests.HuggingFace;

public class GenerateCommandTests
{
    internal static JsonNode LastJsonLine(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        return JsonNode.Parse(lines[^1])!;
    }

    internal static int[] Ints(JsonNode node) => node.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    internal static void AssertOneLineError(int exit, string stderr, params string[] expected)
    {
        Assert.Equal(2, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        foreach (var e in expected) Assert.Contains(e, lines[0]);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Greedy_json_ids_and_logprobs_are_the_references(string kind)
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write(kind, temp);
        var (exit, stdout, stderr) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "Hello there, the world: 42!", "--greedy", "--json", "--max-new-tokens", "12");
        Assert.True(exit == 0, stderr);
        var json = LastJsonLine(stdout);
        var (promptIds, ids) = (Ints(json["promptIds"]!), Ints(json["ids"]!));
        var logprobs = json["logprobs"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        Assert.True(promptIds.Length > 10); // the merges shorten the text, but it is more than a few tokens
        if (kind == "llama") Assert.Equal(262, promptIds[0]); // the post-processor's BOS
        Assert.Equal(ids.Length, logprobs.Length);
        Assert.NotEmpty(ids);
        Assert.IsType<string>(json["text"]!.GetValue<string>());

        var eos = kind == "gpt2" ? 256 : 263;
        var reference = PythonReference.Run(dir, [promptIds], greedy: 12, eos: [eos]);
        Assert.Equal(reference.Greedy[0], ids);
        // The reference's logits over prompt + continuation: each generated token's log-softmax.
        var logits = PythonReference.Run(dir, [[.. promptIds, .. ids]], greedy: 0).Logits[0];
        for (var i = 0; i < ids.Length; i++)
        {
            var row = logits[promptIds.Length - 1 + i];
            var max = row.Max();
            var logZ = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            Assert.True(Math.Abs(row[ids[i]] - logZ - logprobs[i]) < 1e-4, $"token {i}: reference {row[ids[i]] - logZ}, morlaif {logprobs[i]}");
        }
    }

    [Fact]
    public void Seeded_sampling_is_reproducible_and_the_seed_matters()
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write("gpt2", temp);
        int[] Sample(string seed)
        {
            var (exit, stdout, stderr) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "the weather", "--temperature", "8", "--top-p", "0.99",
                "--seed", seed, "--json", "--max-new-tokens", "16");
            Assert.True(exit == 0, stderr);
            return Ints(LastJsonLine(stdout)["ids"]!);
        }
        var first = Sample("5");
        Assert.Equal(first, Sample("5"));
        Assert.NotEqual(first, Sample("6"));
    }

    [Fact]
    public void Plain_output_is_the_decoded_continuation()
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write("gpt2", temp);
        var json = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "the weather", "--greedy", "--json");
        var plain = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "the weather", "--greedy");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(LastJsonLine(json.Stdout)["text"]!.GetValue<string>() + "\n", plain.Stdout);
    }

    [Fact]
    public void Bad_folders_and_options_are_one_line_with_exit_2()
    {
        using var temp = new TinyHf.TempFolder();
        var missing = Path.Combine(temp.Path, "nowhere");
        var (e1, _, s1) = MorlaifProcess.Run("generate", "--model", missing, "--prompt", "hi");
        AssertOneLineError(e1, s1, "--model", missing);

        var (e2, _, s2) = MorlaifProcess.Run("generate", "--model", temp.Path, "--prompt", "hi");
        AssertOneLineError(e2, s2, "config.json");

        var dir = CheckpointFolders.Write("llama", temp);
        var (e3, _, s3) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi", "--temperature", "warm");
        AssertOneLineError(e3, s3, "--temperature", "warm");
        var (e4, _, s4) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi", "--greedy", "--top-p", "0.9");
        AssertOneLineError(e4, s4, "--greedy", "--top-p");
        var (e5, _, s5) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi", "--dtype", "int8");
        AssertOneLineError(e5, s5, "--dtype", "int8");
        // A model folder is not an adapter folder.
        var (e6, _, s6) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi", "--adapter", dir);
        AssertOneLineError(e6, s6, Path.Combine(dir, "adapter_config.json"), "not found");
        var (e9, _, s9) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi", "--adapter", missing);
        AssertOneLineError(e9, s9, "--adapter", missing);
        var (e7, _, s7) = MorlaifProcess.Run("generate", "--model", dir);
        AssertOneLineError(e7, s7, "--prompt");

        File.Delete(Path.Combine(dir, "tokenizer.json"));
        var (e8, _, s8) = MorlaifProcess.Run("generate", "--model", dir, "--prompt", "hi");
        AssertOneLineError(e8, s8, dir, "tokenizer.json");
    }
}
