using System.Diagnostics;
using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Morlaif.Learning.Tests.HuggingFace.Lora.LoraTestKit;

namespace Morlaif.Learning.Tests.HuggingFace.Lora;

/// <summary>Principle PMs as LoRA adapters with score heads on one frozen tiny base.</summary>
public class HfPreferenceModelTests(ITestOutputHelper output)
{
    private const int Marker = 7;

    /// <summary>Random prompt + response rows of varied length; the better response of each pair contains <see cref="Marker"/>.</summary>
    private static List<PreferencePair> MarkerPairs(int count, int seed)
    {
        var rng = new Random(seed);
        int Token() { int t; do t = rng.Next(1, TinyHf.Vocab); while (t == Marker); return t; }
        var pairs = new List<PreferencePair>();
        for (var i = 0; i < count; i++)
        {
            var prompt = Enumerable.Range(0, rng.Next(3, 6)).Select(_ => Token()).ToArray();
            var length = rng.Next(3, 7);
            var good = Enumerable.Range(0, length).Select(_ => Token()).ToArray();
            good[rng.Next(length)] = Marker;
            var bad = Enumerable.Range(0, length).Select(_ => Token()).ToArray();
            // Half the pairs put the better sequence second, so a PM cannot win by position.
            pairs.Add(rng.Next(2) == 0
                ? new PreferencePair([.. prompt, .. good], [.. prompt, .. bad], 1, 0)
                : new PreferencePair([.. prompt, .. bad], [.. prompt, .. good], 0, 0));
        }
        return pairs;
    }

    private static void RandomizeHead(HfPreferenceModel pm, string principle, long seed)
    {
        using var g = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        pm.Head(principle).weight!.copy_(randn(pm.Head(principle).weight!.shape, generator: g));
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void A_pm_on_a_tiny_base_learns_to_prefer_responses_with_a_marker_token_and_the_base_stays_frozen(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 30);
        var baseWeights = Snapshot(model);
        using var pm = new HfPreferenceModel(model);
        pm.AddPrinciple("marker", seed: 31);
        var train = MarkerPairs(800, seed: 32);
        var test = MarkerPairs(200, seed: 33);
        var before = PreferenceModelTraining.Accuracy(pm.Principle("marker"), test);
        var clock = Stopwatch.StartNew();
        var loss = PreferenceModelTraining.Train(pm.Principle("marker"), train, new PmSettings(Epochs: 2, BatchSize: 16, LearningRate: 5e-3), seed: 34);
        var after = PreferenceModelTraining.Accuracy(pm.Principle("marker"), test);
        output.WriteLine($"{arch}: held-out accuracy {before:F2} -> {after:F2}, last epoch loss {loss:F3}, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(after > 0.85, $"held-out accuracy {after}");
        Assert.True(loss < Math.Log(2) - 0.2, $"loss {loss}");
        foreach (var (key, value) in model.state_dict()) Assert.True(value.equal(baseWeights[key]).all().item<bool>(), $"{key} changed");
    }

    [Fact]
    public void Principle_pms_hot_swapped_on_one_base_give_each_its_own_scores_and_reload_from_disk()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 40);
        using var pm = new HfPreferenceModel(model);
        int[][] rows = [[1, 2, 3, 4], [9, 8, 7, 6, 5, 4, 3], [50, 60]];
        foreach (var (name, seed) in new[] { ("harmless", 41L), ("helpful", 42L), ("honest", 43L) })
        {
            pm.AddPrinciple(name, seed: seed);
            Randomize(pm.Lora, name, seed + 10);
            RandomizeHead(pm, name, seed + 20);
        }
        var scores = pm.Principles.ToDictionary(p => p, p => pm.Score(p, rows));
        Assert.True(Math.Abs(scores["harmless"][0] - scores["helpful"][0]) > 1e-2);
        // Scoring again after the others were active gives the same numbers: nothing of one PM leaks into another.
        foreach (var p in pm.Principles.Reverse()) Assert.Equal(scores[p], pm.Score(p, rows));
        // A left-padded batch scores each row as it scores alone.
        Assert.Equal(scores["honest"][1], pm.Score("honest", [rows[1]])[0], 5);

        using var folders = new TinyHf.TempFolder();
        foreach (var p in pm.Principles) pm.Save(p, Path.Combine(folders.Path, p), "tiny-gpt2");
        using var freshBase = TinyHf.Model(TinyHf.Gpt2Config(), seed: 40);
        using var reloaded = new HfPreferenceModel(freshBase);
        foreach (var p in new[] { "honest", "harmless", "helpful" }) reloaded.Load(p, Path.Combine(folders.Path, p));
        foreach (var p in pm.Principles) Assert.Equal(scores[p], reloaded.Score(p, rows));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folders.Path, "honest", "adapter_config.json")))!;
        Assert.Equal("SEQ_CLS", config["task_type"]!.GetValue<string>());
        Assert.Equal(["score"], config["modules_to_save"]!.AsArray().Select(n => n!.GetValue<string>()));
        var saved = File.ReadAllBytes(Path.Combine(folders.Path, "honest", "adapter_model.safetensors"));
        var header = JsonNode.Parse(saved.AsSpan(8, (int)BitConverter.ToUInt64(saved, 0)))!.AsObject();
        Assert.Equal([1, 32], header["base_model.model.score.weight"]!["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void The_reference_scores_a_saved_pm_as_we_do(string arch)
    {
        using var baseFolder = new TinyHf.TempFolder();
        using var pmFolder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(Config(arch), seed: 50);
        HfModelFolder.Save(model, baseFolder.Path);
        using var pm = new HfPreferenceModel(model);
        pm.AddPrinciple("p", seed: 51);
        Randomize(pm.Lora, "p", 52);
        RandomizeHead(pm, "p", 53);
        pm.Save("p", pmFolder.Path);
        int[][] rows = [[5, 17, 3, 88, 42], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
        var ours = pm.Score("p", rows);
        var theirs = PythonReference.Run(baseFolder.Path, rows, greedy: 0, adapter: pmFolder.Path).Scores!;
        var diff = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{arch}: scores {string.Join(", ", ours.Select(s => s.ToString("F4")))}, max difference from the reference {diff:E2}");
        Assert.True(diff < 1e-4, $"max difference {diff}");
    }

    [Fact]
    public void Loading_a_pm_without_a_score_head_names_the_field_and_adds_nothing()
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(TinyHf.LlamaConfig(), seed: 60);
        var lora = new LoraModel(model);
        lora.AddAdapter("policy", new LoraSettings());
        LoraFolder.Save(lora, "policy", folder.Path);
        using var pm = new HfPreferenceModel(model);
        var e = Assert.Throws<ConfigException>(() => pm.Load("p", folder.Path));
        Assert.Contains("adapter_config.json: modules_to_save does not list 'score'", e.Message);
        Assert.Empty(pm.Principles);
        Assert.False(pm.Lora.Adapters.ContainsKey("p"));
    }
}
