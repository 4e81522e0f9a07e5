using System.Globalization;
using System.Text.RegularExpressions;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Tests.HuggingFace;
using static TorchSharp.torch;

namespace Morlaif.Cli.Tests.HuggingFace;

public class SftCommandTests
{
    private static string Data(TinyHf.TempFolder temp, params string[] lines)
    {
        var path = Path.Combine(temp.Path, "data.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static readonly string[] PromptCompletion = [.. Enumerable.Range(0, 8).Select(i =>
        $$"""{"prompt": "Q: what comes after {{i}}?", "completion": " A: {{i + 1}}, then {{i + 2}}."}""")];

    private static List<double> EpochLosses(string stdout) =>
        [.. Regex.Matches(stdout, @"epoch \d+/\d+: mean loss ([0-9.]+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Sft_lowers_the_loss_and_writes_a_folder_that_loads_here_and_in_the_reference(string kind)
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write(kind, temp);
        var outDir = Path.Combine(temp.Path, "out");
        var (exit, stdout, stderr) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, PromptCompletion), "--out", outDir,
            "--epochs", "4", "--learning-rate", "1e-3", "--batch-size", "4", "--seed", "3");
        Assert.True(exit == 0, stderr);
        var losses = EpochLosses(stdout);
        Assert.Equal(4, losses.Count);
        Assert.True(losses[^1] < losses[0] * 0.8, string.Join(", ", losses));
        foreach (var file in new[] { "config.json", "model.safetensors", kind == "gpt2" ? "vocab.json" : "tokenizer.json" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);

        int[] ids = [3, 77, 120, 256, 5, 199, 41];
        using var trained = HfModelFolder.Load(outDir);
        using var before = HfModelFolder.Load(dir);
        using var _ = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var mask = ones_like(input, ScalarType.Bool);
        var here = trained.Forward(input, mask)[0];
        var reference = tensor(PythonReference.Run(outDir, [ids], greedy: 0).Logits[0].SelectMany(r => r).ToArray()).reshape(ids.Length, -1);
        Assert.True(TinyHf.MaxAbsDiff(here, reference) < 1e-4, $"max |diff| {TinyHf.MaxAbsDiff(here, reference)}");
        Assert.True(TinyHf.MaxAbsDiff(here, before.Forward(input, mask)[0]) > 1e-2); // it did train
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Sft_with_lora_writes_an_adapter_alone_that_generate_applies_as_the_reference_does(string kind)
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write(kind, temp);
        var outDir = Path.Combine(temp.Path, "adapter");
        var (exit, stdout, stderr) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, PromptCompletion), "--out", outDir,
            "--lora", "4", "--epochs", "4", "--learning-rate", "1e-2", "--batch-size", "4", "--seed", "3");
        Assert.True(exit == 0, stderr);
        Assert.Contains("(LoRA r 4, alpha 32)", stdout);
        var losses = EpochLosses(stdout);
        Assert.True(losses[^1] < losses[0] * 0.8, string.Join(", ", losses));
        // The adapter alone, in PEFT's layout: the base is not written again.
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).Order().ToArray());
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "adapter_config.json")))!;
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(Path.GetFullPath(dir), config["base_model_name_or_path"]!.GetValue<string>());

        // generate applies it; the reference, which merges the saved PEFT files itself, continues the same way.
        string[] generate = ["generate", "--model", dir, "--prompt", "Q: what comes after 2?", "--greedy", "--json", "--max-new-tokens", "8"];
        var (e1, plain, s1) = MorlaifProcess.Run(generate);
        var (e2, adapted, s2) = MorlaifProcess.Run([.. generate, "--adapter", outDir]);
        Assert.True(e1 == 0 && e2 == 0, s1 + s2);
        var json = GenerateCommandTests.LastJsonLine(adapted);
        var promptIds = GenerateCommandTests.Ints(json["promptIds"]!);
        var ids = GenerateCommandTests.Ints(json["ids"]!);
        var eos = kind == "gpt2" ? 256 : 263;
        Assert.Equal(PythonReference.Run(dir, [promptIds], greedy: 8, eos: [eos], adapter: outDir).Greedy[0], ids);
        Assert.NotEqual(GenerateCommandTests.Ints(GenerateCommandTests.LastJsonLine(plain)["ids"]!), ids); // the adapter learned something

        // A preference model's adapter (SEQ_CLS) is not a policy.
        var configPath = Path.Combine(outDir, "adapter_config.json");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"CAUSAL_LM\"", "\"SEQ_CLS\"", StringComparison.Ordinal));
        var (e3, _, s3) = MorlaifProcess.Run([.. generate, "--adapter", outDir]);
        GenerateCommandTests.AssertOneLineError(e3, s3, configPath, "task_type 'SEQ_CLS'");
    }

    [Fact]
    public void Sft_reads_every_trl_format_and_the_same_seed_trains_the_same()
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write("llama", temp);
        var data = Data(temp,
            """{"prompt": "Q: hello?", "completion": " A: hi."}""",
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "Sunny."}]}""",
            """{"prompt": [{"role": "user", "content": "Name?"}], "completion": [{"role": "assistant", "content": "Morlaif."}]}""",
            "",
            """{"text": "The whole text is trained on."}""");
        string Run(string seed) => MorlaifProcess.Run("sft", "--model", dir, "--data", data, "--out", Path.Combine(temp.Path, "o" + seed),
            "--epochs", "2", "--batch-size", "2", "--seed", seed) switch
        {
            (0, var stdout, _) => stdout,
            var (code, _, stderr) => throw new Xunit.Sdk.XunitException($"exit {code}: {stderr}"),
        };
        var first = Run("1");
        Assert.Contains("sft: 4 examples", first);
        Assert.Equal(EpochLosses(first), EpochLosses(Run("1")));
        Assert.NotEqual(EpochLosses(first)[1], EpochLosses(Run("2"))[1]); // a different shuffle, different batches
    }

    [Fact]
    public void Bad_data_names_the_file_line_and_field()
    {
        using var temp = new TinyHf.TempFolder();
        var dir = CheckpointFolders.Write("gpt2", temp);
        var outDir = Path.Combine(temp.Path, "out");
        void Expect(string[] lines, params string[] expected)
        {
            var (exit, _, stderr) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, lines), "--out", outDir);
            GenerateCommandTests.AssertOneLineError(exit, stderr, expected);
            Assert.False(Directory.Exists(outDir)); // nothing written
        }
        Expect([PromptCompletion[0], "", """{"prompt": "Q: where is it?"}"""], "data.jsonl:3", "'completion'");
        Expect([PromptCompletion[0], "{not json"], "data.jsonl:2", "malformed JSON");
        Expect(["""{"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]}"""], "data.jsonl:1", "'messages'", "assistant");
        Expect(["""{"text": 42}"""], "data.jsonl:1", "'text'");
        Expect(["""{"chosen": "a", "rejected": "b"}"""], "data.jsonl:1", "'prompt' and 'completion', 'messages', or 'text'");

        var (e1, _, s1) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, PromptCompletion), "--out", outDir, "--lora", "0");
        GenerateCommandTests.AssertOneLineError(e1, s1, "--lora", "at least 1");
        var (e4, _, s4) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, PromptCompletion), "--out", outDir, "--lora-alpha", "16");
        GenerateCommandTests.AssertOneLineError(e4, s4, "--lora-alpha", "--lora R");
        var (e2, _, s2) = MorlaifProcess.Run("sft", "--model", dir, "--data", Path.Combine(temp.Path, "missing.jsonl"), "--out", outDir);
        GenerateCommandTests.AssertOneLineError(e2, s2, "missing.jsonl", "cannot be read");
        var (e3, _, s3) = MorlaifProcess.Run("sft", "--model", dir, "--data", Data(temp, PromptCompletion), "--out", outDir, "--epochs", "0");
        GenerateCommandTests.AssertOneLineError(e3, s3, "--epochs", "at least 1");
    }
}
