using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using static TorchSharp.torch;
using static Morlaif.Learning.Tests.HuggingFace.Lora.LoraTestKit;

namespace Morlaif.Learning.Tests.HuggingFace.Lora;

/// <summary>
/// Principle PMs adapted on the top layers only (PEFT's layers_to_transform): scored together, the frozen layers below run
/// once for all of them, and each PM scores what it scores alone.
/// </summary>
public class TopLayerPmTests
{
    // Rows of different lengths, so the batch is left-padded and the shared layers see the padding too.
    private static readonly int[][] Rows = [[5, 17, 3, 88, 42, 9, 60], [1, 2, 3], [50, 60, 70, 80, 90], [11]];

    private static HfPreferenceModel Pms(HfCausalLm model, params (string Name, int? Top)[] principles)
    {
        var pm = new HfPreferenceModel(model);
        foreach (var (i, (name, top)) in principles.Index())
        {
            pm.AddPrinciple(name, new LoraSettings().OnTopLayers(top, model.Config.Layers), seed: 10 + i);
            Randomize(pm.Lora, name, 20 + i);
            using var _ = no_grad();
            pm.Head(name).weight!.normal_(0, 1);
        }
        return pm;
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"row {i}: {expected[i]} alone, {actual[i]} together");
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void Principles_scored_together_over_shared_lower_layers_score_as_each_alone(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 1);
        using var pm = Pms(model, ("harmless", 1), ("helpful", 1), ("honest", 1));
        Assert.All(pm.Principles, p => Assert.Equal(1, pm.Lora.FirstLayer(p)));
        string[] principles = ["honest", "harmless", "helpful"];
        var together = pm.Score(principles, Rows, batchSize: 3);
        Assert.True(Math.Abs(together[0][0] - together[1][0]) > 1e-3, "the PMs should differ");
        for (var i = 0; i < principles.Length; i++) AssertClose(pm.Score(principles[i], Rows), together[i]);

        // A full-depth PM among them leaves nothing to share, and still every PM scores as alone.
        pm.AddPrinciple("full", seed: 30);
        Randomize(pm.Lora, "full", 31);
        var mixed = pm.Score(["full", "helpful"], Rows);
        AssertClose(pm.Score("full", Rows), mixed[0]);
        AssertClose(pm.Score("helpful", Rows), mixed[1]);
    }

    [Fact]
    public void The_reward_scores_its_principles_together_as_each_alone()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 2);
        using var pm = Pms(model, ("a", 1), ("b", 1));
        var normalizer = new ScoreNormalizer(0.5, 2);
        PrincipleScorer[] scorers = [new("a", pm.Principle("a"), normalizer), new("b", pm.Principle("b"), normalizer)];
        var together = PrincipleScorer.ScoreAll(scorers, Rows);
        Assert.Equal(pm.Score(["a", "b"], Rows), together);
        AssertClose(scorers[1].Score(Rows), together[1]);
        // PMs of two different sets cannot share a pass: each scores alone.
        using var other = TinyHf.Model(TinyHf.Gpt2Config(), seed: 3);
        using var otherPm = Pms(other, ("c", 1));
        var apart = PrincipleScorer.ScoreAll([scorers[0], new("c", otherPm.Principle("c"), normalizer)], Rows);
        Assert.Equal(otherPm.Score("c", Rows), apart[1]);
    }

    [Fact]
    public void Training_a_top_layer_pm_leaves_the_lower_layers_without_adapters_and_the_base_frozen()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 4);
        var baseWeights = Snapshot(model);
        using var pm = new HfPreferenceModel(model);
        pm.AddPrinciple("top", new LoraSettings().OnTopLayers(1, 2), seed: 5);
        var rng = new Random(6);
        var pairs = Enumerable.Range(0, 64).Select(_ => new PreferencePair([.. Enumerable.Range(0, 6).Select(_ => rng.Next(1, 90))],
            [.. Enumerable.Range(0, 6).Select(_ => rng.Next(1, 90))], rng.Next(2), 0)).ToList();
        PreferenceModelTraining.Train(pm.Principle("top"), pairs, new PmSettings(Epochs: 1, BatchSize: 16, LearningRate: 1e-2), seed: 7);

        Assert.All(pm.Lora.Pairs("top"), p => Assert.StartsWith("transformer.h.1.", p.Path));
        Assert.Equal(4, pm.Lora.Pairs("top").Count); // c_attn, attn.c_proj, c_fc, mlp.c_proj
        Assert.All(pm.Lora.Layers.Where(l => l.Key.StartsWith("transformer.h.0.", StringComparison.Ordinal)), l => Assert.Empty(l.Value.Adapters));
        Assert.True(pm.Lora.Pairs("top").Any(p => p.Pair.B.abs().sum().item<float>() > 0), "the adapter should have trained");
        foreach (var (key, value) in model.state_dict()) Assert.True(value.equal(baseWeights[key]).all().item<bool>(), $"{key} changed");
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void A_top_layer_pm_saves_layers_to_transform_for_peft_and_reloads_with_the_same_scores(string arch)
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(Config(arch), seed: 8);
        using var pm = Pms(model, ("p", 1));
        pm.Save("p", folder.Path);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, LoraFolder.ConfigFile)))!;
        Assert.Equal([1], config["layers_to_transform"]!.AsArray().Select(n => n!.GetValue<int>()));
        var saved = File.ReadAllBytes(Path.Combine(folder.Path, LoraFolder.WeightsFile));
        var header = JsonNode.Parse(saved.AsSpan(8, (int)BitConverter.ToUInt64(saved, 0)))!.AsObject();
        var layer0 = arch == "gpt2" ? ".h.0." : ".layers.0.";
        Assert.DoesNotContain(header, kv => kv.Key.Contains(layer0, StringComparison.Ordinal));

        using var freshBase = TinyHf.Model(Config(arch), seed: 8);
        using var reloaded = new HfPreferenceModel(freshBase);
        reloaded.Load("p", folder.Path);
        Assert.Equal([1], reloaded.Lora.Adapters["p"].LayersToTransform!);
        Assert.Equal(1, reloaded.Lora.FirstLayer("p"));
        Assert.Equal(pm.Score("p", Rows), reloaded.Score("p", Rows));

        // PEFT also writes a single layer as a number; a layer the model lacks is one error naming the field.
        var path = Path.Combine(folder.Path, LoraFolder.ConfigFile);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"layers_to_transform\": [\n    1\n  ]", "\"layers_to_transform\": 1"));
        Assert.Contains("\"layers_to_transform\": 1", File.ReadAllText(path));
        reloaded.RemovePrinciple("p");
        reloaded.Load("p", folder.Path);
        Assert.Equal([1], reloaded.Lora.Adapters["p"].LayersToTransform!);
        reloaded.RemovePrinciple("p");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("\"layers_to_transform\": 1", "\"layers_to_transform\": 1, \"layers_pattern\": \"blocks\""));
        Assert.Contains("layers_pattern 'blocks' is not supported", Assert.Throws<ConfigException>(() => reloaded.Load("p", folder.Path)).Message);
        File.WriteAllText(path, text.Replace("\"layers_to_transform\": 1", "\"layers_to_transform\": [5]"));
        var e = Assert.Throws<ConfigException>(() => reloaded.Load("p", folder.Path));
        Assert.Contains("adapter_config.json: layers_to_transform names layer 5", e.Message);
        Assert.Empty(reloaded.Principles);
    }

    [Fact]
    public void A_full_depth_adapter_saves_layers_to_transform_null()
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 9);
        using var pm = Pms(model, ("p", null));
        pm.Save("p", folder.Path);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder.Path, LoraFolder.ConfigFile)))!.AsObject();
        Assert.True(config.ContainsKey("layers_to_transform"));
        Assert.Null(config["layers_to_transform"]);
        Assert.Equal(0, pm.Lora.FirstLayer("p"));
    }

    [Fact]
    public void Top_layers_beyond_the_model_are_refused()
    {
        Assert.Contains("must be 1 to 2", Assert.Throws<ArgumentException>(() => new LoraSettings().OnTopLayers(3, 2)).Message);
        Assert.Contains("must be 1 to 2", Assert.Throws<ArgumentException>(() => new LoraSettings().OnTopLayers(0, 2)).Message);
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 10);
        var lora = new LoraModel(model);
        var e = Assert.Throws<ArgumentException>(() => lora.AddAdapter("x", new LoraSettings(LayersToTransform: [2])));
        Assert.Contains("layers_to_transform names layer 2", e.Message);
        Assert.Empty(lora.Adapters);
    }
}
