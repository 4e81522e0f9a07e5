using System.Diagnostics;
using System.Globalization;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>
/// Scoring rollouts under 12 principle PMs (issue 22): today each principle's adapter spans every layer, so 12 PMs cost 12
/// passes of the base; with adapters on the top K layers only, the frozen layers below run once and only the top K once
/// per principle (<see cref="HfPreferenceModel.Score(IReadOnlyList{string}, IReadOnlyList{int[]}, int)"/>). Speed: GPT-2-small
/// (12 layers, random weights), one PM's pass vs 12 PMs today vs 12 PMs sharing the lower layers at K = 1, 2, 3, best of
/// several repeats (the machine is shared). Accuracy: does adapting only the top layers cost a PM accuracy? A small random
/// GPT-2 and a task whose preference depends on the text (<see cref="KeyedPairs"/>), each principle's PM trained with the
/// project's trainer full-depth and top-K on the same labelled pairs, held-out accuracy compared.
///   dotnet run -c Release --project tests/Morlaif.Benchmarks -- pm-scoring [speed|accuracy|all] [sequences=64] [tokens=96] [repeats=3]
/// </summary>
public static class PmScoring
{
    /// <summary>One measured figure; a limit where the issue sets one (the figure passes at value / limit &lt;= 1).</summary>
    public sealed record Figure(string Name, double Value, double? Limit, string Unit)
    {
        public double? Ratio => Limit is { } l ? Value / l : null;
    }

    /// <summary>The top layers the text runs' PM adapters span when sharing is on (model.lora.pmTopLayers); 2 of GPT-2-small's 12 is 2.83 passes for 12 PMs.</summary>
    public const int TopLayers = 2;

    private const int Principles = 12;

    private const string Gpt2Small = """
        { "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50257, "n_embd": 768, "n_layer": 12,
          "n_head": 12, "n_positions": 1024, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new" }
        """;

    public static void Run(string[] args)
    {
        var what = args.FirstOrDefault() ?? "all";
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        var figures = Measure(what is "all" or "speed", what is "all" or "accuracy", Arg(1, 64), Arg(2, 96), Arg(3, 3));
        foreach (var f in figures)
            Console.WriteLine(FormattableString.Invariant($"{f.Name,-34} {f.Value,10:F4} {f.Unit,-4}")
                + (f.Limit is { } l ? FormattableString.Invariant($" limit {l:F2}, ratio {f.Ratio:F3}") : ""));
    }

    /// <summary>The figures: pm_scoring_12_vs_1 (12 PMs sharing the lower layers at <see cref="TopLayers"/> / one PM, limit 3), the accuracy differences, peak RSS.</summary>
    public static IReadOnlyList<Figure> Measure(bool speed = true, bool accuracy = true, int sequences = 64, int tokens = 96, int repeats = 3)
    {
        var figures = new List<Figure>();
        if (speed) figures.AddRange(Speed(sequences, tokens, repeats));
        if (accuracy) figures.AddRange(Accuracy());
        figures.Add(new Figure("pm_scoring_peak_rss", LoraMemory.PeakMiB(), null, "MiB"));
        return figures;
    }

    private static IEnumerable<Figure> Speed(int count, int length, int repeats)
    {
        using var model = HfModelFolder.Create(HfConfig.Parse(Gpt2Small));
        model.eval();
        var rng = new Random(1);
        var rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length).Select(_ => rng.Next(50257)).ToArray()).ToList();
        using var pm = new HfPreferenceModel(model);
        var settings = new LoraSettings();
        string[] Add(string name, LoraSettings s) =>
            [.. Enumerable.Range(0, Principles).Select(i => { pm.AddPrinciple($"{name}-{i}", s, seed: i); return $"{name}-{i}"; })];
        var full = Add("full", settings);

        // Wall time and the process's CPU time, each the best of its repeats: on a shared machine waiting for a core inflates
        // the wall time, not the CPU time, so the CPU ratios are the steadier ones.
        (double Wall, double Cpu) Time(Action run)
        {
            using var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            run();
            process.Refresh();
            return (clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
        }
        (double Wall, double Cpu) Best(IEnumerable<(double Wall, double Cpu)> times) =>
            times.Aggregate((a, b) => (Math.Min(a.Wall, b.Wall), Math.Min(a.Cpu, b.Cpu)));
        string Line(string what, (double Wall, double Cpu) t, (double Wall, double Cpu) one) => FormattableString.Invariant(
            $"{what,-40} {t.Wall,8:F3} s wall {t.Wall / one.Wall,6:F2}x   {t.Cpu,8:F3} s CPU {t.Cpu / one.Cpu,6:F2}x");

        Console.WriteLine($"PM scoring speed: GPT-2-small (12 layers, random weights), {count} sequences x {length} tokens, {Principles} principle PMs (r = 8), best of {repeats}, {Environment.ProcessorCount} cores");
        pm.Score(full[0], rows); // warm-up: JIT, allocator
        // Each of today's 12 passes is also one PM's pass: the best of all of them is one PM's time.
        var passes = new List<(double Wall, double Cpu)>();
        var today = Best(Enumerable.Range(0, repeats).Select(_ =>
        {
            var each = full.Select(p => Time(() => pm.Score(p, rows))).ToList();
            passes.AddRange(each);
            return (each.Sum(t => t.Wall), each.Sum(t => t.Cpu));
        }).ToList());
        var shared = new Dictionary<int, (double Wall, double Cpu)>();
        var disagreement = new Dictionary<int, double>();
        (double Wall, double Cpu)[] paired = [];
        foreach (var k in new[] { 1, 2, 3 })
        {
            var top = Add($"top{k}", settings.OnTopLayers(k, 12));
            shared[k] = Best(Enumerable.Range(0, repeats).Select(_ => Time(() => pm.Score(top, rows))).ToList());
            disagreement[k] = Disagreement(pm, top, rows);
            if (k == TopLayers)
                // The load of a shared machine changes within seconds: one PM's pass and the 12 shared PMs timed back to back,
                // the ratio of each such pair, and the median of those is the steadiest figure.
                paired = [.. Enumerable.Range(0, 2 * repeats + 1).Select(_ =>
                {
                    var a = Time(() => pm.Score(full[0], rows));
                    var b = Time(() => pm.Score(top, rows));
                    return (b.Wall / a.Wall, b.Cpu / a.Cpu);
                })];
            foreach (var p in top) pm.RemovePrinciple(p);
        }
        // One PM again after the shared runs, so that a busy spell of the machine during one part does not skew the ratios.
        passes.AddRange(Enumerable.Range(0, repeats).Select(_ => Time(() => pm.Score(full[0], rows))));
        var one = Best(passes);
        Console.WriteLine(Line("one PM, one pass", one, one));
        Console.WriteLine(Line("12 PMs today (full depth, 12 passes)", today, one));
        foreach (var (k, t) in shared)
            // The shared pass must give what each PM alone gives (B = 0 would hide a wrong adapter: Disagreement gives every B some weight).
            Console.WriteLine(Line($"12 PMs, top {k}, shared below (exp. {(12.0 - k + Principles * k) / 12:F2}x)", t, one)
                + FormattableString.Invariant($"   max |shared - alone| {disagreement[k]:E1}"));
        double Median(IEnumerable<double> xs) => xs.Order().ElementAt(paired.Length / 2);
        var (pairedWall, pairedCpu) = (Median(paired.Select(r => r.Wall)), Median(paired.Select(r => r.Cpu)));
        Console.WriteLine(FormattableString.Invariant(
            $"12 PMs top {TopLayers} / one PM, back to back, median of {paired.Length}: {pairedWall:F2}x wall, {pairedCpu:F2}x CPU (each: {string.Join(" ", paired.Select(r => $"{r.Wall:F2}/{r.Cpu:F2}"))})"));
        yield return new Figure("pm_scoring_one_pm", one.Wall, null, "s");
        yield return new Figure("pm_scoring_12_today", today.Wall, null, "s");
        foreach (var (k, t) in shared) yield return new Figure($"pm_scoring_12_top{k}", t.Wall, null, "s");
        yield return new Figure("pm_scoring_12_vs_1", pairedWall, 3.0, "x");
        yield return new Figure("pm_scoring_12_vs_1_cpu", pairedCpu, 3.0, "x");
    }

    /// <summary>The largest difference between a PM's scores in the shared pass and alone, with every adapter's B randomised first.</summary>
    private static double Disagreement(HfPreferenceModel pm, IReadOnlyList<string> principles, IReadOnlyList<int[]> rows)
    {
        using (no_grad())
            foreach (var p in principles)
            foreach (var b in pm.Lora.Pairs(p).Select(x => x.Pair.B))
                b.normal_(0, 0.02);
        var sample = rows.Take(2).ToList();
        var together = pm.Score(principles, sample);
        return principles.Select((p, i) => pm.Score(p, sample).Zip(together[i], (a, b) => Math.Abs(a - b)).Max()).Max();
    }

    // The accuracy task: a small random GPT-2 (the PM base is frozen, so what the adapters can reach is what matters).
    private const int Vocab = 256;
    private const int KeysPerPrinciple = 6;
    private const int AccuracyPrinciples = 3;

    private const string SmallGpt2 = """
        { "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 256, "n_embd": 64, "n_layer": 4,
          "n_head": 4, "n_positions": 64, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new" }
        """;

    /// <summary>
    /// Pairs of prompt + response where principle j prefers the response with more of its key tokens (ties: no preference).
    /// Keys of every principle also appear in the prompts, so a PM must tell the response from the prompt; principle j's
    /// keys are tokens [10 + 6j, 16 + 6j).
    /// </summary>
    private static (int[] A, int[] B, int[] CountsA, int[] CountsB)[] KeyedPairs(int count, int seed)
    {
        var rng = new Random(seed);
        int Token() => rng.NextDouble() < 0.25 ? 10 + rng.Next(AccuracyPrinciples * KeysPerPrinciple) : 40 + rng.Next(Vocab - 40);
        int[] Counts(int[] response) => [.. Enumerable.Range(0, AccuracyPrinciples).Select(j => response.Count(t => t >= 10 + KeysPerPrinciple * j && t < 10 + KeysPerPrinciple * (j + 1)))];
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var prompt = Enumerable.Range(0, rng.Next(6, 12)).Select(_ => Token()).ToArray();
            int[] a = [.. Enumerable.Range(0, rng.Next(6, 14)).Select(_ => Token())], b = [.. Enumerable.Range(0, rng.Next(6, 14)).Select(_ => Token())];
            return ((int[])[.. prompt, .. a], (int[])[.. prompt, .. b], Counts(a), Counts(b));
        })];
    }

    private static List<PreferencePair> Labelled((int[] A, int[] B, int[] CountsA, int[] CountsB)[] pairs, int principle) =>
        [.. pairs.Select(p => new PreferencePair(p.A, p.B, p.CountsA[principle] > p.CountsB[principle] ? 1 : p.CountsA[principle] < p.CountsB[principle] ? 0 : 0.5, 0))];

    private static IEnumerable<Figure> Accuracy()
    {
        var train = KeyedPairs(600, seed: 2);
        var test = KeyedPairs(800, seed: 3);
        // r = 8, alpha = 32 (the paper's); 2 epochs at 5e-3, as the text-run tests train their PMs (sized for a shared 2-core machine).
        var settings = new PmSettings(Epochs: 2, BatchSize: 16, LearningRate: 5e-3);
        (string Name, int? Top)[] variants = [("full depth", null), ("top 2 of 4", 2)];
        var accuracy = new double[AccuracyPrinciples, variants.Length];
        var clock = Stopwatch.StartNew();
        using var model = HfModelFolder.Create(HfConfig.Parse(SmallGpt2));
        using var pm = new HfPreferenceModel(model);
        for (var j = 0; j < AccuracyPrinciples; j++)
            for (var v = 0; v < variants.Length; v++)
            {
                // The same adapter and head seeds, pairs, labels and shuffles for every variant: only the adapted layers differ.
                var name = $"p{j}-{v}";
                pm.AddPrinciple(name, new LoraSettings().OnTopLayers(variants[v].Top, 4), seed: 100 + j);
                PreferenceModelTraining.Train(pm.Principle(name), Labelled(train, j), settings, seed: 200 + j);
                accuracy[j, v] = PreferenceModelTraining.Accuracy(pm.Principle(name), Labelled(test, j));
                Console.WriteLine(FormattableString.Invariant($"  p{j} {variants[v].Name}: held-out accuracy {accuracy[j, v]:F3} ({clock.Elapsed.TotalSeconds:F0} s)"));
                pm.RemovePrinciple(name);
            }
        Console.WriteLine($"PM held-out accuracy, full-depth vs top-K adapters: GPT-2 4 layers x 64 (random weights), {AccuracyPrinciples} principles keyed on different tokens, {train.Length} training / {test.Length} held-out pairs (ties left out), {settings.Epochs} epochs, {clock.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine("principle  " + string.Join("  ", variants.Select(v => v.Name.PadLeft(10))) + "  " + string.Join("  ", variants.Skip(1).Select(v => ("diff " + v.Name[..5]).PadLeft(10))));
        for (var j = 0; j < AccuracyPrinciples; j++)
            Console.WriteLine($"p{j,-9} " + string.Join("  ", Enumerable.Range(0, variants.Length).Select(v => FormattableString.Invariant($"{accuracy[j, v],10:F3}")))
                + "  " + string.Join("  ", Enumerable.Range(1, variants.Length - 1).Select(v => FormattableString.Invariant($"{accuracy[j, v] - accuracy[j, 0],10:+0.000;-0.000}"))));
        for (var v = 1; v < variants.Length; v++)
        {
            var worst = Enumerable.Range(0, AccuracyPrinciples).Max(j => accuracy[j, 0] - accuracy[j, v]);
            yield return new Figure($"pm_accuracy_drop_top{variants[v].Top}_of_4", worst, v == 1 ? 0.01 : null, "");
        }
    }
}
