using System.Diagnostics;
using System.Globalization;
using Morlaif.Learning.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>
/// GPT-2-small (124M parameters, random weights) on this machine: generation tokens/s with the KV cache against
/// recomputing the whole sequence each step, at batch 1 and 16 (32-token prompts, 32 new tokens), and a PPO-sized
/// training step (forward, backward and AdamW on 8 x 64 tokens) in FLOP/s (6 x parameters x tokens) against the
/// fp32 matmul peak measured in the same process (2048 x 2048 matmuls).
///   dotnet run -c Release --project tests/Morlaif.Benchmarks -- hf [device=cpu] [trainSteps=3]
/// </summary>
internal static class HfBenchmark
{
    private const string Gpt2Small = """
        { "model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
          "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "tie_word_embeddings": true, "bos_token_id": 50256, "eos_token_id": 50256 }
        """;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Run(string[] args)
    {
        var device = args.Length > 0 && args[0] == "cuda" ? CUDA : CPU;
        var trainSteps = args.Length > 1 ? int.Parse(args[1], C) : 3;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.WriteLine($"device {device.type}, {Environment.ProcessorCount} cores, torch threads {get_num_threads()}, load average at start: {load}");
        manual_seed(1);
        var peak = MatmulPeak(device);
        Console.WriteLine(string.Create(C, $"fp32 matmul peak (2048 x 2048): {peak / 1e9:F1} GFLOP/s"));

        using var model = HfModelFolder.Create(HfConfig.Parse(Gpt2Small));
        model.to(device);
        var parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine(string.Create(C, $"GPT-2 small: {parameters / 1e6:F1}M parameters"));
        Console.WriteLine();
        Console.WriteLine("case                               batch   seconds   tokens/s   speed-up");
        foreach (var batch in new[] { 1, 16 })
        {
            var prompts = Enumerable.Range(0, batch).Select(b => Enumerable.Range(0, 32).Select(i => (b * 977 + i * 131) % 50000).ToArray()).ToList();
            Generate(model, prompts.Take(1).ToList(), 2, cached: true); // warm-up: allocations, kernels
            var cached = Time(() => Generate(model, prompts, 32, cached: true));
            var full = Time(() => Generate(model, prompts, 32, cached: false));
            var tokens = batch * 32.0;
            Console.WriteLine(string.Create(C, $"generate 32 new, KV cache           {batch,5}  {cached,8:F2}  {tokens / cached,9:F1}  {full / cached,8:F1}x"));
            Console.WriteLine(string.Create(C, $"generate 32 new, recompute all      {batch,5}  {full,8:F2}  {tokens / full,9:F1}"));
        }

        var seconds = TrainStep(model, device, trainSteps);
        var flops = 6.0 * parameters * 8 * 64 / seconds;
        Console.WriteLine();
        Console.WriteLine(string.Create(C, $"train step 8 x 64 (fwd+bwd+AdamW): {seconds:F2} s/step, {flops / 1e9:F1} GFLOP/s = {100 * flops / peak:F0}% of the matmul peak"));
        Console.WriteLine($"load average at end: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        // Peak resident memory of the whole benchmark (the 498 MB of weights, AdamW's moments, the largest batch's activations).
        if (File.Exists("/proc/self/status"))
            Console.WriteLine(File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Replace("VmHWM:", "peak RSS (VmHWM):"));
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static double MatmulPeak(Device device)
    {
        const int n = 2048, reps = 10;
        using var scope = NewDisposeScope();
        var (a, b) = (randn(n, n, device: device), randn(n, n, device: device));
        for (var i = 0; i < 2; i++) a.matmul(b).Dispose();
        Sync(device);
        var seconds = Time(() =>
        {
            for (var i = 0; i < reps; i++) a.matmul(b).Dispose();
            Sync(device);
        });
        return 2.0 * n * n * n * reps / seconds;
    }

    private static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>Greedy decoding without an eos, so every row makes all its tokens; without the cache, the whole sequence is fed each step.</summary>
    private static void Generate(HfCausalLm model, List<int[]> prompts, int steps, bool cached)
    {
        var device = model.parameters().First().device;
        if (cached)
        {
            HfGeneration.Generate(model, prompts, new GenerationOptions { MaxNewTokens = steps, Greedy = true, BatchSize = prompts.Count });
            Sync(device);
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(prompts.SelectMany(p => p.Select(i => (long)i)).ToArray(), device: device).reshape(prompts.Count, -1);
        for (var step = 0; step < steps; step++)
        {
            // Each step's activations freed with the step (kept, 32 steps at batch 16 held over 23 GB).
            using var stepScope = NewDisposeScope();
            var hidden = model.HiddenStates(ids, ones_like(ids, ScalarType.Bool));
            var next = model.LmHead(hidden[.., -1]).argmax(-1);
            ids = cat([ids, next.unsqueeze(1)], 1).MoveToOuterDisposeScope();
        }
        Sync(device);
    }

    /// <summary>Seconds per step, after one warm-up step: next-token cross-entropy on every position, backward, AdamW.</summary>
    private static double TrainStep(HfCausalLm model, Device device, int steps)
    {
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), 1e-5);
        var ids = randint(0, 50257, [8, 64], dtype: ScalarType.Int64, device: device);
        var mask = ones_like(ids, ScalarType.Bool);
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.Forward(ids, mask)[.., ..^1];
            var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), ids[.., 1..].reshape(-1));
            loss.backward();
            optimizer.step();
            Sync(device);
        }
        Step();
        var seconds = Time(() =>
        {
            for (var i = 0; i < steps; i++) Step();
        });
        model.eval();
        return seconds / steps;
    }
}
