using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>Properties of the forward pass that need no reference: padding, the cache, save and load.</summary>
public class HfModelTests
{
    public static TheoryData<string> Configs() => new(
        TinyHf.Gpt2Config(),
        TinyHf.LlamaConfig(extra: TinyHf.Llama3Scaling),
        TinyHf.LlamaConfig("qwen2", tied: true));

    private static readonly int[][] Ragged = [[5, 17, 3, 88, 42, 9, 60], [11, 2], [40, 41, 42, 43]];

    private static Tensor Logits(HfCausalLm model, int[] ids)
    {
        using var t = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        using var m = ones_like(t);
        return model.Forward(t, m)[0];
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Left_padded_batch_logits_equal_each_prompt_alone(string config)
    {
        using var model = TinyHf.Model(config, seed: 3);
        var batch = SequenceBatch.LeftPadded(Ragged);
        using var logits = model.Forward(batch.Tokens, batch.Valid);
        var width = logits.shape[1];
        for (var i = 0; i < Ragged.Length; i++)
        {
            using var alone = Logits(model, Ragged[i]);
            using var padded = logits[i, TensorIndex.Slice(width - Ragged[i].Length)];
            // fp32 rounding of a differently shaped batch reached 1.3e-5 on this CPU; a padding bug moves logits by O(1).
            // 1e-4 is the bar the reference comparisons use.
            Assert.True(TinyHf.MaxAbsDiff(alone, padded) < 1e-4, $"row {i} differs by {TinyHf.MaxAbsDiff(alone, padded):E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Decoding_with_the_cache_gives_the_full_forward_pass_logits(string config)
    {
        using var model = TinyHf.Model(config, seed: 4);
        // Each row's prompt, then its continuation fed one token per step through the cache.
        int[][] continuations = [[7, 8, 9], [70, 71, 72], [1, 96, 50]];
        var batch = SequenceBatch.LeftPadded(Ragged);
        using var cache = model.NewCache();
        var stepped = new List<Tensor> { model.Forward(batch.Tokens, batch.Valid, cache)[.., -1] };
        for (var s = 0; s < 3; s++)
        {
            using var next = tensor(continuations.Select(c => (long)c[s]).ToArray(), [Ragged.Length, 1]);
            stepped.Add(model.Forward(next, ones_like(next), cache)[.., -1]);
        }
        for (var i = 0; i < Ragged.Length; i++)
        {
            using var full = Logits(model, [.. Ragged[i], .. continuations[i]]);
            for (var s = 0; s <= 3; s++)
            {
                var diff = TinyHf.MaxAbsDiff(stepped[s][i], full[Ragged[i].Length - 1 + s]);
                Assert.True(diff < 1e-4, $"row {i} step {s}: cached logits differ by {diff:E2}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Saving_then_loading_gives_the_same_logits_and_copies_the_tokenizer_files(string config)
    {
        using var source = new TinyHf.TempFolder();
        using var target = new TinyHf.TempFolder();
        File.WriteAllText(Path.Combine(source.Path, "tokenizer.json"), "{\"model\": {}}");
        File.WriteAllText(Path.Combine(source.Path, "merges.txt"), "#version: 0.2\n");
        using var model = TinyHf.Model(config, seed: 5);
        HfModelFolder.Save(model, target.Path, tokenizerSource: source.Path, maxShardBytes: 20_000);
        Assert.True(File.Exists(Path.Combine(target.Path, HfModelFolder.IndexFile)));
        Assert.Equal("{\"model\": {}}", File.ReadAllText(Path.Combine(target.Path, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(target.Path, "merges.txt")));
        Assert.False(File.Exists(Path.Combine(target.Path, "vocab.json")));
        using var loaded = HfModelFolder.Load(target.Path);
        Assert.Equal("float32", loaded.Config.TorchDtype);
        Assert.Equal(model.Config with { Raw = loaded.Config.Raw, TorchDtype = "float32" }, loaded.Config);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        using var before = Logits(model, ids);
        using var after = Logits(loaded, ids);
        Assert.Equal(TinyHf.Floats(before), TinyHf.Floats(after));
    }

    public static TheoryData<string, ScalarType> HalfCases() => new()
    {
        { TinyHf.LlamaConfig(), ScalarType.BFloat16 },
        { TinyHf.LlamaConfig("qwen2", tied: true), ScalarType.Float16 },
        { TinyHf.Gpt2Config(), ScalarType.BFloat16 },
        { TinyHf.Gpt2Config(), ScalarType.Float16 },
    };

    [Theory]
    [MemberData(nameof(HalfCases))]
    public void Loading_fp32_weights_in_half_precision_keeps_that_dtype_and_close_logits(string config, ScalarType dtype)
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(config, seed: 6);
        HfModelFolder.Save(model, folder.Path);
        using var half = HfModelFolder.Load(folder.Path, dtype: dtype);
        Assert.All(half.parameters(), p => Assert.Equal(dtype, p.dtype));
        int[] ids = [3, 1, 4, 1, 5];
        using var full = Logits(model, ids);
        using var low = Logits(half, ids);
        Assert.Equal(dtype, low.dtype);
        // Half precision keeps 3-4 significant digits: close, not equal.
        var diff = TinyHf.MaxAbsDiff(full, low);
        Assert.True(diff > 0 && diff < 0.1 * full.abs().max().item<float>(), $"{dtype} logits differ by {diff}");
        var generated = HfGeneration.Generate(half, [[1, 2, 3], [4]], new GenerationOptions { Greedy = true, MaxNewTokens = 3 });
        Assert.All(generated, g => Assert.Equal(3, g.Ids.Length));
    }

    [Fact]
    public void Rope_scaling_changes_the_logits_so_the_reference_comparison_exercises_it()
    {
        using var plain = TinyHf.Model(TinyHf.LlamaConfig(), seed: 7);
        using var scaled = TinyHf.Model(TinyHf.LlamaConfig(extra: TinyHf.Llama3Scaling), seed: 7);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        Assert.True(TinyHf.MaxAbsDiff(Logits(plain, ids), Logits(scaled, ids)) > 1e-3);
    }

    [Fact]
    public void Tied_models_have_no_lm_head_parameter_and_untied_ones_do()
    {
        using var tied = TinyHf.Model(TinyHf.LlamaConfig(tied: true), seed: 1);
        using var untied = TinyHf.Model(TinyHf.LlamaConfig(tied: false), seed: 1);
        Assert.DoesNotContain("lm_head.weight", tied.state_dict().Keys);
        Assert.Contains("lm_head.weight", untied.state_dict().Keys);
        using var gpt2 = TinyHf.Model(TinyHf.Gpt2Config(), seed: 1);
        Assert.Contains("transformer.h.1.attn.c_attn.weight", gpt2.state_dict().Keys);
        Assert.Equal([32, 96], gpt2.state_dict()["transformer.h.1.attn.c_attn.weight"].shape);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", untied.state_dict().Keys);
        Assert.Equal([16, 32], untied.state_dict()["model.layers.1.self_attn.k_proj.weight"].shape);
    }

    [Fact]
    public void Sampling_is_reproducible_per_seed_and_reports_unscaled_log_probabilities()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 8);
        var options = new GenerationOptions { MaxNewTokens = 6, Temperature = 0.7, TopP = 0.9 };
        List<GeneratedSequence> Run(ulong seed)
        {
            using var g = new Generator(seed, CPU);
            return HfGeneration.Generate(model, Ragged, options, g);
        }
        var a = Run(11);
        var b = Run(11);
        Assert.Equal(a.Select(r => r.Ids), b.Select(r => r.Ids));
        // Each reported log-probability is log_softmax of the plain logits at that point.
        for (var i = 0; i < Ragged.Length; i++)
        {
            Assert.Equal(6, a[i].Ids.Length);
            using var full = Logits(model, [.. Ragged[i], .. a[i].Ids]).log_softmax(-1);
            for (var j = 0; j < a[i].Ids.Length; j++)
                Assert.Equal(full[Ragged[i].Length - 1 + j, a[i].Ids[j]].item<float>(), a[i].LogProbs[j], 4);
        }
    }

    [Fact]
    public void Generation_stops_a_row_at_eos_and_keeps_the_eos_token()
    {
        using var model = TinyHf.Model(TinyHf.LlamaConfig(), seed: 9);
        var free = HfGeneration.Generate(model, Ragged, new GenerationOptions { Greedy = true, MaxNewTokens = 5 });
        var eos = free[0].Ids[2];
        var stopped = HfGeneration.Generate(model, Ragged, new GenerationOptions { Greedy = true, MaxNewTokens = 5, EosTokenIds = [eos] });
        Assert.Equal(free[0].Ids[..(Array.IndexOf(free[0].Ids, eos) + 1)], stopped[0].Ids);
        for (var i = 1; i < Ragged.Length; i++)
        {
            var cut = Array.IndexOf(free[i].Ids, eos);
            Assert.Equal(cut < 0 ? free[i].Ids : free[i].Ids[..(cut + 1)], stopped[i].Ids);
        }
    }

    [Fact]
    public void Gpt2_refuses_a_sequence_past_its_position_table_and_generation_stops_at_its_end()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(positions: 8), seed: 10);
        var e = Assert.Throws<ArgumentException>(() => Logits(model, [1, 2, 3, 4, 5, 6, 7, 8, 9]));
        Assert.Contains("n_positions (8)", e.Message);
        // Left padding may make a batch wider than the table as long as no row's real tokens are.
        var batch = SequenceBatch.LeftPadded([[1, 2, 3, 4, 5, 6, 7, 8], [1]]);
        using var padded = tensor(new long[] { 0, 0 }, [2, 1]);
        _ = model.Forward(cat([padded, batch.Tokens], 1), cat([padded.to(ScalarType.Bool), batch.Valid], 1));
        var generated = HfGeneration.Generate(model, [[1, 2, 3, 4, 5]], new GenerationOptions { Greedy = true, MaxNewTokens = 10 });
        Assert.Equal(3, generated[0].Ids.Length);
    }

    [Fact]
    public void A_replaced_projection_keeps_its_key_and_is_used_by_the_forward_pass()
    {
        using var llama = (LlamaForCausalLm)TinyHf.Model(TinyHf.LlamaConfig(), seed: 12);
        using var gpt2 = (Gpt2LmHeadModel)TinyHf.Model(TinyHf.Gpt2Config(), seed: 12);
        int[] ids = [3, 1, 4, 1, 5];
        using var llamaBefore = Logits(llama, ids);
        using var gpt2Before = Logits(gpt2, ids);
        var zeroQ = TorchSharp.torch.nn.Linear(32, 32, hasBias: false);
        using (no_grad()) zeroQ.weight!.zero_();
        llama.Model.Layers[0].SelfAttn.ReplaceProjection("q_proj", zeroQ);
        var zeroAttn = new Conv1D(32, 96);
        using (no_grad()) zeroAttn.Weight.zero_();
        gpt2.Transformer.Blocks[1].Attn.ReplaceProjection("c_attn", zeroAttn);
        Assert.Same(zeroQ, llama.Model.Layers[0].SelfAttn.Projections["q_proj"]);
        Assert.Equal(0, llama.state_dict()["model.layers.0.self_attn.q_proj.weight"].abs().sum().item<float>());
        Assert.Equal(0, gpt2.state_dict()["transformer.h.1.attn.c_attn.weight"].abs().sum().item<float>());
        Assert.True(TinyHf.MaxAbsDiff(llamaBefore, Logits(llama, ids)) > 1e-3);
        Assert.True(TinyHf.MaxAbsDiff(gpt2Before, Logits(gpt2, ids)) > 1e-3);
    }

    [Fact]
    public void A_tied_checkpoint_that_also_stores_lm_head_loads_with_the_embedding_as_head()
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(TinyHf.LlamaConfig("qwen2", tied: true), seed: 13);
        HfModelFolder.Save(model, folder.Path);
        var tensors = model.state_dict().Select(p => (p.Key, p.Value)).ToList();
        tensors.Add(("lm_head.weight", zeros(TinyHf.Vocab, 32)));
        SafetensorsFile.Write(Path.Combine(folder.Path, HfModelFolder.WeightsFile), tensors, ScalarType.Float32);
        using var loaded = HfModelFolder.Load(folder.Path);
        int[] ids = [3, 1, 4];
        Assert.Equal(TinyHf.Floats(Logits(model, ids)), TinyHf.Floats(Logits(loaded, ids)));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Loaded_models_train_every_parameter_gets_a_gradient_and_a_step_lowers_the_loss(string config)
    {
        using var folder = new TinyHf.TempFolder();
        using (var written = TinyHf.Model(config, seed: 14)) HfModelFolder.Save(written, folder.Path);
        using var model = HfModelFolder.Load(folder.Path);
        model.train();
        var batch = SequenceBatch.LeftPadded(Ragged);
        using var targets = batch.Tokens[.., TensorIndex.Slice(1)].masked_fill(batch.Valid[.., TensorIndex.Slice(1)].logical_not(), -100);
        Tensor Loss() => TorchSharp.torch.nn.functional.cross_entropy(
            model.Forward(batch.Tokens, batch.Valid)[.., TensorIndex.Slice(0, -1)].reshape(-1, TinyHf.Vocab), targets.reshape(-1), ignore_index: -100);
        var optimizer = TorchSharp.torch.optim.SGD(model.parameters(), 0.05);
        var before = Loss();
        before.backward();
        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, $"{p.name} has no gradient"));
        optimizer.step();
        using (no_grad()) Assert.True(Loss().item<float>() < before.item<float>());
    }
}
