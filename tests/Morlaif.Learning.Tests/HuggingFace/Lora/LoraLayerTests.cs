using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using static TorchSharp.torch;
using static Morlaif.Learning.Tests.HuggingFace.Lora.LoraTestKit;

namespace Morlaif.Learning.Tests.HuggingFace.Lora;

public class LoraLayerTests
{
    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void A_fresh_adapter_leaves_the_logits_unchanged_and_the_state_dict_keeps_the_checkpoint_keys(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 1);
        var keys = model.state_dict().Keys.ToList();
        using var before = Logits(model);
        var lora = new LoraModel(model);
        lora.AddAdapter("a", new LoraSettings());
        lora.SetActive("a");
        var expectedTargets = arch == "gpt2" ? 2 * 4 : 2 * 7;
        Assert.Equal(expectedTargets, lora.Layers.Count);
        Assert.All(lora.Pairs("a"), p => Assert.Equal(0, p.Pair.B.abs().sum().item<float>()));
        Assert.All(lora.Pairs("a"), p => Assert.True(p.Pair.A.abs().sum().item<float>() > 0));
        Assert.Equal(TinyHf.Floats(before), TinyHf.Floats(Logits(model)));
        Assert.Equal(keys, model.state_dict().Keys.ToList());
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void A_training_step_changes_the_logits_and_touches_only_A_and_B(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 2);
        var lora = new LoraModel(model);
        lora.AddAdapter("a", new LoraSettings(), seed: 3);
        lora.SetActive("a");
        var baseWeights = Snapshot(model);
        using var before = Logits(model);
        var trainable = lora.Parameters("a");
        using var optimizer = optim.AdamW(trainable, 1e-2);
        var ids = tensor(Rows[0].Select(i => (long)i).ToArray(), [1, Rows[0].Length]);
        var logits = model.Forward(ids, ones_like(ids));
        var loss = nn.functional.cross_entropy(logits[0, ..^1], ids[0, 1..]);
        optimizer.zero_grad();
        loss.backward();
        Assert.All(model.parameters(), p => Assert.True(p.grad is null, "a base parameter got a gradient"));
        Assert.All(trainable, p => Assert.NotNull(p.grad));
        Assert.All(lora.Pairs("a"), p => Assert.True(p.Pair.B.grad!.abs().sum().item<float>() > 0));
        optimizer.step();
        Assert.True(TinyHf.MaxAbsDiff(before, Logits(model)) > 1e-4);
        foreach (var (key, value) in model.state_dict()) Assert.True(value.equal(baseWeights[key]).all().item<bool>(), $"{key} changed");
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void Merging_gives_the_unmerged_logits_and_unmerging_restores_the_base(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 4);
        using var baseLogits = Logits(model);
        var baseWeights = Snapshot(model);
        var lora = new LoraModel(model);
        lora.AddAdapter("a", new LoraSettings());
        Randomize(lora, "a", seed: 5);
        lora.SetActive("a");
        using var unmerged = Logits(model);
        Assert.True(TinyHf.MaxAbsDiff(unmerged, baseLogits) > 1e-2, "the adapter should matter");
        var deltas = lora.Layers.ToDictionary(l => l.Key, l => l.Value.DeltaWeight("a").detach().clone());
        lora.Merge();
        // Merged, the weights are the base's plus B A alpha/r in the base's own layout, and the forward pass adds nothing more;
        // the two orders of summation agree to fp32 rounding, 1e-5 of the logits' scale (these tiny models' logits reach ~20).
        var mergedDiff = TinyHf.MaxAbsDiff(unmerged, Logits(model));
        var scale = Math.Max(1, unmerged.abs().max().item<float>());
        Assert.True(mergedDiff < 1e-5 * scale, $"merged logits differ by {mergedDiff} (logits up to {unmerged.abs().max().item<float>()})");
        Assert.Throws<InvalidOperationException>(() => lora.SetActive(null));
        lora.Unmerge();
        foreach (var (path, layer) in lora.Layers)
        {
            var original = baseWeights[path + ".weight"];
            // W + d - d in fp32 is W up to the two roundings (each at most half an ulp of |W| + |d|).
            var bound = (original.abs() + deltas[path].abs()) * Math.Pow(2, -23);
            Assert.True(((layer.Weight - original).abs() <= bound).all().item<bool>(), $"{path} not restored");
        }
        lora.SetActive(null);
        Assert.True(TinyHf.MaxAbsDiff(baseLogits, Logits(model)) < 1e-5 * Math.Max(1, baseLogits.abs().max().item<float>()));
    }

    [Theory]
    [MemberData(nameof(Architectures), MemberType = typeof(LoraTestKit))]
    public void Adapters_off_is_the_base_exactly_and_each_adapter_gives_its_own_logits(string arch)
    {
        using var model = TinyHf.Model(Config(arch), seed: 6);
        using var baseLogits = Logits(model);
        var lora = new LoraModel(model);
        lora.AddAdapter("a", new LoraSettings());
        // b adapts only the attention (PEFT's suffix match), so it wraps a subset of the projections a wraps.
        lora.AddAdapter("b", new LoraSettings(Rank: 4, Alpha: 8, TargetModules: arch == "gpt2" ? ["c_attn"] : ["q_proj", "v_proj"]));
        Randomize(lora, "a", seed: 7);
        Randomize(lora, "b", seed: 8);
        Assert.Equal(arch == "gpt2" ? 2 : 4, lora.Pairs("b").Count);
        lora.SetActive("a");
        using var a = Logits(model);
        lora.SetActive("b");
        using var b = Logits(model);
        Assert.True(TinyHf.MaxAbsDiff(a, b) > 1e-2);
        using (lora.AdaptersOff()) Assert.Equal(TinyHf.Floats(baseLogits), TinyHf.Floats(Logits(model)));
        Assert.Equal("b", lora.Active);
        Assert.Equal(TinyHf.Floats(b), TinyHf.Floats(Logits(model)));
        lora.SetActive("a");
        Assert.Equal(TinyHf.Floats(a), TinyHf.Floats(Logits(model)));
        lora.RemoveAdapter("a");
        Assert.Null(lora.Active);
        Assert.Equal(TinyHf.Floats(baseLogits), TinyHf.Floats(Logits(model)));
    }

    [Fact]
    public void Targets_that_match_nothing_are_refused_with_the_names()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 9);
        var lora = new LoraModel(model);
        var e = Assert.Throws<ArgumentException>(() => lora.AddAdapter("a", new LoraSettings(TargetModules: ["q_proj"])));
        Assert.Contains("q_proj", e.Message);
        Assert.Throws<ArgumentException>(() => lora.AddAdapter("a", new LoraSettings(Rank: 0)));
        Assert.Empty(lora.Layers);
    }
}
