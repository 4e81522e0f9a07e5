using System.Diagnostics;
using System.Globalization;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>
/// Memory of principle PMs at GPT-2-small size (124M parameters, random weights): the base alone, the base with 8 LoRA
/// PMs (r = 8, alpha = 32 adapters on c_attn/c_proj/c_fc, each with its score head) hot-swapped on it, and 8 full PM
/// copies, of which 2 are measured and the 8 extrapolated linearly (each full copy is another base plus a head).
///   dotnet run -c Release --project tests/Morlaif.Benchmarks -- lora-memory
/// </summary>
internal static class LoraMemory
{
    private const string Gpt2Small = """
        { "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50257, "n_embd": 768, "n_layer": 12,
          "n_head": 12, "n_positions": 1024, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new" }
        """;

    private static double RssMiB()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var p = Process.GetCurrentProcess();
        return p.WorkingSet64 / (1024.0 * 1024);
    }

    public static void Run()
    {
        var config = HfConfig.Parse(Gpt2Small);
        using (var warm = ones(8)) _ = warm.sum().item<float>();
        var start = RssMiB();
        var model = HfModelFolder.Create(config);
        model.eval();
        var baseParams = model.parameters().Sum(p => p.numel());
        var baseRss = RssMiB();

        var pm = new HfPreferenceModel(model);
        for (var i = 0; i < 8; i++) pm.AddPrinciple($"principle-{i}", seed: i);
        var adapterParams = pm.Trainable("principle-0").Sum(p => p.numel());
        var loraRss = RssMiB();
        // One forward pass per PM, so each adapter is shown to work on the shared base (activations are freed after each).
        int[][] rows = [Enumerable.Range(1, 32).ToArray()];
        var scores = pm.Principles.Select(p => pm.Score(p, rows)[0]).ToList();
        var scoredRss = RssMiB();

        var folder = Directory.CreateTempSubdirectory("morlaif-lora-bench-").FullName;
        pm.Save("principle-0", folder, "gpt2");
        var adapterBytes = new FileInfo(Path.Combine(folder, LoraFolder.WeightsFile)).Length;
        Directory.Delete(folder, recursive: true);

        // Two full PMs (another base each, plus a head), measured; the eight extrapolated from them.
        var copies = Enumerable.Range(0, 2).Select(_ => HfModelFolder.Create(config)).ToList();
        var heads = copies.Select(_ => nn.Linear(768, 1, hasBias: false)).ToList();
        var twoFullRss = RssMiB();
        var perFull = (twoFullRss - scoredRss) / 2;

        static string F(double x) => x.ToString("F0", CultureInfo.InvariantCulture).PadLeft(10);
        Console.WriteLine($"LoRA PM memory at GPT-2-small size: {baseParams / 1e6:F1}M base parameters (fp32), 8 principle PMs, r = 8, alpha = 32 on c_attn, c_proj, c_fc");
        Console.WriteLine($"per PM: {adapterParams:N0} trainable parameters (adapter + score head), adapter_model.safetensors {adapterBytes / 1024.0:F0} KiB vs {baseParams * 4 / 1048576.0:F0} MiB for the base's weights");
        Console.WriteLine("                                     RSS MiB  above start");
        Console.WriteLine($"process before the model           {F(start)}  {F(0)}");
        Console.WriteLine($"base alone                         {F(baseRss)}  {F(baseRss - start)}");
        Console.WriteLine($"base + 8 LoRA PMs (measured)       {F(loraRss)}  {F(loraRss - start)}");
        Console.WriteLine($"  after one forward pass per PM    {F(scoredRss)}  {F(scoredRss - start)}   (the allocator keeps freed activations)");
        Console.WriteLine($"2 full PM copies (measured, extra)            {F(twoFullRss - scoredRss)}");
        Console.WriteLine($"8 full PMs (extrapolated: 8 x {perFull:F0})      {F(start + 8 * perFull)}  {F(8 * perFull)}");
        Console.WriteLine($"8 LoRA PMs add {loraRss - baseRss:F0} MiB to the base; 8 full PMs would need {8 * perFull / Math.Max(1, loraRss - start):F1}x the LoRA set's memory");
        Console.WriteLine($"peak RSS (VmHWM) {PeakMiB():F0} MiB; scores of one 32-token row under each PM: {string.Join(", ", scores.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))}");
        GC.KeepAlive(copies);
        GC.KeepAlive(heads);
    }

    internal static double PeakMiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
