using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>This machine's limits, measured in the benchmark's process right before each case they bound.</summary>
/// <param name="MatmulFlops">fp32 FLOP/s of a 2048 x 2048 matmul, best of several.</param>
/// <param name="Bandwidth">bytes/s read plus written by a 512 MiB tensor copy, best of several.</param>
internal sealed record SpeedLimits(double MatmulFlops, double Bandwidth);

/// <summary>One measured figure against its limit (same unit), and the accelerator memory the case would need.</summary>
/// <param name="GpuBytes">from tensor sizes: weights, KV cache and activations (training: also grads and AdamW's moments).</param>
internal sealed record SpeedFigure(double Value, string Unit, double Limit, double GpuBytes)
{
    public double Ratio => Value / Limit;
}

/// <summary>A named case; to add one, add it to a family's list (or a new family's) in <see cref="SpeedBenchmark.Cases"/>.</summary>
internal sealed record SpeedCase(string Name, Func<SpeedLimits, SpeedFigure> Run);

/// <summary>
/// Each figure against this machine's limit for it, in one process: the limits are measured right before each case
/// (the machine is shared, so they move), peak RSS is reset before each case and read after it.
/// With --compare, an earlier run's JSON (the code before a change, on the same machine) and this run's figures are also
/// printed as the README's markdown table.
///   dotnet run -c Release --project tests/Morlaif.Benchmarks -- speed [--json FILE] [--only name,name] [--compare BEFORE.json]
/// </summary>
internal static class SpeedBenchmark
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    // The world's run first: a case's peak RSS starts from what the process already holds, and the GPT-2 cases keep their model.
    private static IEnumerable<SpeedCase> Cases => [.. WorldRunSpeed.Cases, .. DecodeSpeed.Cases, .. TrainSpeed.Cases, .. PmScoringSpeed.Cases];

    public static void Run(string[] args)
    {
        string? json = null, compare = null;
        HashSet<string>? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = args[++i]; break;
                case "--only": only = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)]; break;
                case "--compare": compare = args[++i]; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}' (speed [--json FILE] [--only name,name] [--compare BEFORE.json])");
            }
        }
        var cases = Cases.Where(c => only is null || only.Contains(c.Name)).ToList();
        if (only is not null && only.Except(cases.Select(c => c.Name)).ToList() is [_, ..] unknown)
            throw new ArgumentException($"no case {string.Join(", ", unknown)}; cases: {string.Join(", ", Cases.Select(c => c.Name))}");

        Console.WriteLine($"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}, load average {LoadAverage()}");
        Console.WriteLine("name                      value  unit         limit   ratio  peak RSS MiB  GPU MiB  (limits: GFLOP/s, GB/s)");
        var results = new Dictionary<string, object>();
        foreach (var c in cases)
        {
            var limits = MeasureLimits();
            ResetPeakRss();
            var figure = c.Run(limits);
            var rss = PeakRssMiB();
            var gpu = figure.GpuBytes / (1 << 20);
            Console.WriteLine(string.Create(C, $"{c.Name,-22} {figure.Value,8:F1}  {figure.Unit,-9} {figure.Limit,8:F1}  {figure.Ratio,6:F3}  {rss,12:F0}  {gpu,7:F0}  ({limits.MatmulFlops / 1e9:F1}, {limits.Bandwidth / 1e9:F1})"));
            results[c.Name] = new { value = figure.Value, unit = figure.Unit, limit = figure.Limit, ratio = figure.Ratio, peakRssMiB = rss, gpuMiB = gpu };
        }
        Console.WriteLine($"load average at end {LoadAverage()}");
        var written = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true });
        if (json is not null) File.WriteAllText(json, written);
        if (compare is not null) Console.Write(Markdown(JsonDocument.Parse(File.ReadAllText(compare)).RootElement, JsonDocument.Parse(written).RootElement));
    }

    /// <summary>The README's table: each figure before and after, against its limit, with peak RSS and the GPU estimate.</summary>
    private static string Markdown(JsonElement before, JsonElement after)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine().AppendLine("| figure | unit | before | after | limit | ratio before | ratio after | peak RSS MiB before / after | GPU MiB |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var figure in after.EnumerateObject())
        {
            var a = figure.Value;
            var b = before.TryGetProperty(figure.Name, out var x) ? x : (JsonElement?)null;
            string F(JsonElement? e, string field, string format) => e is { } v ? v.GetProperty(field).GetDouble().ToString(format, C) : "-";
            sb.AppendLine($"| `{figure.Name}` | {a.GetProperty("unit").GetString()} | {F(b, "value", "F2")} | {F(a, "value", "F2")} | {F(a, "limit", "F2")} | " +
                $"{F(b, "ratio", "F3")} | {F(a, "ratio", "F3")} | {F(b, "peakRssMiB", "F0")} / {F(a, "peakRssMiB", "F0")} | {F(a, "gpuMiB", "F0")} |");
        }
        return sb.ToString();
    }

    /// <summary>Seconds of the fastest of <paramref name="repeats"/> runs (the others lost time to the machine's other work).</summary>
    public static double BestSeconds(int repeats, Action action)
    {
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static SpeedLimits MeasureLimits()
    {
        using var scope = NewDisposeScope();
        const int n = 2048;
        var (a, b) = (randn(n, n), randn(n, n));
        a.matmul(b).Dispose(); // warm-up: threads, packing buffers
        var matmul = 2.0 * n * n * n / BestSeconds(5, () => a.matmul(b).Dispose());
        // Into a destination already touched: a fresh clone's time is mostly the kernel handing out its pages.
        var (source, target) = (ones(128L << 20), zeros(128L << 20)); // 512 MiB of fp32 each
        var bandwidth = 2.0 * source.NumberOfElements * 4 / BestSeconds(5, () => target.copy_(source));
        return new SpeedLimits(matmul, bandwidth);
    }

    /// <summary>Writing 5 to clear_refs resets this process's VmHWM to its current RSS (Linux; elsewhere the peak stays cumulative).</summary>
    private static void ResetPeakRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
    }

    private static double PeakRssMiB()
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], C) / 1024;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
}
