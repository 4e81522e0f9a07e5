using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.HuggingFace;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>
/// This project's logits and greedy continuations against tests/reference/hf_reference.py, an independent
/// plain-torch forward pass, on checkpoints of every kind the loader accepts: each is written by this
/// project (or, for the legacy GPT-2 layout, by hand), loaded back from disk, and read by the reference from
/// the same files.
/// </summary>
public class ReferenceComparisonTests(ITestOutputHelper output)
{
    public sealed record Case(string Name, string Config, ScalarType Dtype, long ShardBytes = HfModelFolder.DefaultMaxShardBytes, bool LegacyGpt2 = false)
    {
        public override string ToString() => Name;
    }

    private static readonly Case[] Cases =
    [
        new("gpt2 fp32 tied", TinyHf.Gpt2Config(), ScalarType.Float32),
        new("gpt2 fp16 tied sharded", TinyHf.Gpt2Config(), ScalarType.Float16, ShardBytes: 8_000),
        new("gpt2 bf16 untied", TinyHf.Gpt2Config(tied: false), ScalarType.BFloat16),
        new("gpt2 legacy keys without prefix, with attn.bias buffers", TinyHf.Gpt2Config(), ScalarType.Float32, LegacyGpt2: true),
        new("llama fp32 untied gqa", TinyHf.LlamaConfig(), ScalarType.Float32),
        new("llama bf16 tied llama3 rope_scaling sharded", TinyHf.LlamaConfig(tied: true, extra: TinyHf.Llama3Scaling), ScalarType.BFloat16, ShardBytes: 10_000),
        new("llama fp16 head_dim 16 attention_bias mlp_bias kv_heads 1",
            TinyHf.LlamaConfig(heads: 4, kvHeads: 1, extra: "\"head_dim\": 16, \"attention_bias\": true, \"mlp_bias\": true", ropeTheta: 500000), ScalarType.Float16),
        new("qwen2 fp32 tied q/k/v biases", TinyHf.LlamaConfig("qwen2", tied: true), ScalarType.Float32),
        new("mistral fp32 untied", TinyHf.LlamaConfig("mistral", heads: 4, kvHeads: 4, extra: "\"sliding_window\": 4096"), ScalarType.Float32),
    ];

    public static TheoryData<Case> All() => new(Cases);

    private static readonly int[][] Prompts = [[5, 17, 3, 88, 42, 9, 60], [1, 2, 3, 4, 5, 6, 7]];

    [Theory]
    [MemberData(nameof(All))]
    public void Logits_and_greedy_continuations_agree_with_the_reference(Case c)
    {
        using var folder = new TinyHf.TempFolder();
        using (var written = TinyHf.Model(c.Config, seed: c.Name.Length))
        {
            HfModelFolder.Save(written, folder.Path, dtype: c.Dtype, maxShardBytes: c.ShardBytes);
            if (c.LegacyGpt2) WriteLegacyGpt2(written, folder.Path);
        }
        if (c.ShardBytes < HfModelFolder.DefaultMaxShardBytes)
            Assert.True(File.Exists(Path.Combine(folder.Path, HfModelFolder.IndexFile)), "expected a sharded checkpoint");

        using var model = HfModelFolder.Load(folder.Path);
        var reference = PythonReference.Run(folder.Path, Prompts, greedy: 8);

        using var ids = tensor(Prompts.SelectMany(p => p.Select(i => (long)i)).ToArray(), [Prompts.Length, Prompts[0].Length]);
        using var mask = ones_like(ids);
        using var logits = model.Forward(ids, mask);
        using var expected = tensor(reference.Logits.SelectMany(r => r.SelectMany(t => t)).ToArray(), logits.shape);
        var diff = TinyHf.MaxAbsDiff(logits, expected);
        output.WriteLine($"{c.Name}: max |logit difference| {diff:E2} (logit scale {expected.abs().max().item<float>():F2}), closest greedy tie {reference.MinGap:E2}, " +
            $"continuations {string.Join(" | ", reference.Greedy.Select(g => string.Join(",", g)))}");
        Assert.True(diff < 1e-4, $"{c.Name}: logits differ from the reference by {diff:E3}");

        var greedy = HfGeneration.Generate(model, Prompts, new GenerationOptions { Greedy = true, MaxNewTokens = 8 });
        for (var i = 0; i < Prompts.Length; i++) Assert.Equal(reference.Greedy[i], greedy[i].Ids);
    }

    public static TheoryData<string> RaggedConfigs() => new(TinyHf.Gpt2Config(), TinyHf.LlamaConfig("qwen2", extra: TinyHf.Llama3Scaling));

    /// <summary>
    /// End to end as generation uses it: prompts of different lengths, left-padded into one batch, decoded
    /// through the cache with an eos that stops some rows early, against the reference decoding each prompt
    /// alone and recomputing everything every step.
    /// </summary>
    [Theory]
    [MemberData(nameof(RaggedConfigs))]
    public void Batched_left_padded_greedy_decoding_with_eos_agrees_with_the_reference_per_prompt(string config)
    {
        using var folder = new TinyHf.TempFolder();
        using (var written = TinyHf.Model(config, seed: 21)) HfModelFolder.Save(written, folder.Path);
        using var model = HfModelFolder.Load(folder.Path);
        int[][] prompts = [[5, 17, 3, 88, 42, 9, 60], [11, 2], [40, 41, 42, 43]];
        var free = PythonReference.Run(folder.Path, prompts, greedy: 10);
        // An eos that one row produces midway, so rows finish at different steps.
        int[] eos = [free.Greedy[1][3]];
        var reference = PythonReference.Run(folder.Path, prompts, greedy: 10, eos: eos);
        var ours = HfGeneration.Generate(model, prompts, new GenerationOptions { Greedy = true, MaxNewTokens = 10, EosTokenIds = eos });
        output.WriteLine($"reference continuations: {string.Join(" | ", reference.Greedy.Select(g => string.Join(",", g)))}, closest tie {reference.MinGap:E2}");
        Assert.Contains(reference.Greedy, g => g.Length < 10);
        for (var i = 0; i < prompts.Length; i++) Assert.Equal(reference.Greedy[i], ours[i].Ids);
        // The reported log-probabilities are the reference's log-softmax at each chosen token.
        var full = PythonReference.Run(folder.Path, prompts.Select((p, i) => (int[])[.. p, .. ours[i].Ids]).ToArray(), greedy: 0).Logits;
        for (var i = 0; i < prompts.Length; i++)
        {
            for (var j = 0; j < ours[i].Ids.Length; j++)
            {
                var row = full[i][prompts[i].Length - 1 + j];
                var max = row.Max();
                var logZ = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                Assert.Equal(row[ours[i].Ids[j]] - logZ, ours[i].LogProbs[j], 4);
            }
        }
    }

    /// <summary>
    /// Rewrites a saved GPT-2 folder's weights the way the original "gpt2" upload lays them out: GPT2Model keys
    /// without the "transformer." prefix, and the causal-mask buffers attn.bias / attn.masked_bias beside them.
    /// </summary>
    private static void WriteLegacyGpt2(HfCausalLm model, string folder)
    {
        var tensors = model.state_dict().Select(p => (p.Key["transformer.".Length..], p.Value)).ToList();
        Assert.Contains("h.0.attn.c_attn.weight", tensors.Select(t => t.Item1));
        const int n = 64;
        for (var layer = 0; layer < model.Config.Layers; layer++)
        {
            tensors.Add(($"h.{layer}.attn.bias", ones(n, n).tril().view(1, 1, n, n)));
            tensors.Add(($"h.{layer}.attn.masked_bias", tensor(-1e4f)));
        }
        SafetensorsFile.Write(Path.Combine(folder, HfModelFolder.WeightsFile), tensors, ScalarType.Float32);
    }
}
