using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>A PPO-sized training step on GPT-2 small: forward, backward and AdamW on 8 x 64 tokens, in FLOP/s against the matmul peak.</summary>
internal static class TrainSpeed
{
    private const int Batch = 8, Length = 64;

    public static IEnumerable<SpeedCase> Cases => [new("train_step", limits => TrainStep(limits, repeats: 2))];

    private static SpeedFigure TrainStep(SpeedLimits limits, int repeats)
    {
        var model = Gpt2Small.Model;
        model.train();
        try
        {
            using var optimizer = optim.AdamW(model.parameters(), 1e-5);
            using var ids = randint(0, Gpt2Small.Config.VocabSize, [Batch, Length], dtype: ScalarType.Int64);
            using var mask = ones_like(ids, ScalarType.Bool);
            void Step()
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var logits = model.Forward(ids, mask)[.., ..^1];
                var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), ids[.., 1..].reshape(-1));
                loss.backward();
                optimizer.step();
            }
            Step(); // warm-up, and AdamW's moments come into being
            var seconds = SpeedBenchmark.BestSeconds(repeats, Step);
            // 6 FLOPs per parameter per token: 2 forward, 4 backward (the usual count; attention's own FLOPs are small at 64 tokens).
            var flops = 6.0 * Gpt2Small.Parameters * Batch * Length / seconds;
            return new SpeedFigure(flops / 1e9, "GFLOP/s", limits.MatmulFlops / 1e9, GpuBytes());
        }
        finally
        {
            model.eval();
            model.zero_grad();
        }
    }

    /// <summary>
    /// Weights, grads and AdamW's two moments (16 bytes a parameter), the activations kept for backward (per layer about
    /// 68 x hidden bytes per token plus the attention scores, fp32, after Korthikanti et al.) and the logits with their gradient.
    /// </summary>
    private static double GpuBytes()
    {
        var c = Gpt2Small.Config;
        var tokens = (double)Batch * Length;
        var activations = c.Layers * tokens * (68.0 * c.HiddenSize + 10.0 * c.Heads * Length);
        var logits = 3.0 * tokens * c.VocabSize * 4;
        return 4 * Gpt2Small.WeightBytes + activations + logits;
    }
}
