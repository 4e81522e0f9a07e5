using Morlaif.Learning.HuggingFace;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>
/// KV-cache sampling as PPO's rollouts do it (temperature 1, full distribution, no eos, so every row makes every token):
/// 32-token prompts, 64 new tokens, in tokens/s of the decode steps against the decode roofline.
/// </summary>
internal static class DecodeSpeed
{
    private const int PromptLength = 32, NewTokens = 64;

    public static IEnumerable<SpeedCase> Cases =>
    [
        new("decode_b1", limits => Decode(limits, 1, repeats: 3)),
        new("decode_b16", limits => Decode(limits, 16, repeats: 3)),
        new("decode_b64", limits => Decode(limits, 64, repeats: 2)),
    ];

    private static SpeedFigure Decode(SpeedLimits limits, int batch, int repeats)
    {
        var model = Gpt2Small.Model;
        var prompts = Gpt2Small.Prompts(batch, PromptLength);
        void Generate(int newTokens)
        {
            using var generator = new Generator(7, CPU);
            HfGeneration.Generate(model, prompts, new GenerationOptions { MaxNewTokens = newTokens, BatchSize = batch }, generator);
        }
        Generate(2); // warm-up: allocations, kernels
        // The prefill is kept out: a 1-token run is the prefill and one draw, so the difference is the 63 decode
        // steps (a forward of one token per row through the cache, and its draw). Each is the best of its repeats.
        var prefill = SpeedBenchmark.BestSeconds(repeats, () => Generate(1));
        var full = SpeedBenchmark.BestSeconds(repeats, () => Generate(NewTokens));
        var tokensPerSecond = batch * (NewTokens - 1) / (full - prefill);
        return new SpeedFigure(tokensPerSecond, "tokens/s", batch / RooflineStepSeconds(limits, batch), GpuBytes(batch));
    }

    /// <summary>
    /// One decode step can go no faster than reading every weight once plus the cached keys and values, nor than its
    /// matmuls at the matmul peak (2 FLOPs per weight that multiplies, the tied head included, per row).
    /// </summary>
    private static double RooflineStepSeconds(SpeedLimits limits, int batch)
    {
        var config = Gpt2Small.Config;
        var averageKeys = PromptLength + NewTokens / 2.0;
        var kvBytes = 2.0 * config.Layers * batch * averageKeys * config.HiddenSize * 4;
        var flops = 2.0 * Gpt2Small.MatmulParameters * batch;
        return Math.Max((Gpt2Small.WeightBytes + kvBytes) / limits.Bandwidth, flops / limits.MatmulFlops);
    }

    /// <summary>Weights, the full KV cache, the prefill's largest activations (MLP and attention scores) and the step's logits, log-probs and probabilities.</summary>
    private static double GpuBytes(int batch)
    {
        var c = Gpt2Small.Config;
        var kv = 2.0 * c.Layers * batch * (PromptLength + NewTokens) * c.HiddenSize * 4;
        var prefill = 4.0 * batch * PromptLength * (2 * c.IntermediateSize + c.Heads * PromptLength);
        var logits = 3.0 * batch * c.VocabSize * 4;
        return Gpt2Small.WeightBytes + kv + prefill + logits;
    }
}
