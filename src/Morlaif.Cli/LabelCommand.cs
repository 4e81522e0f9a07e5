using System.Globalization;
using Morlaif.Feedback;
using Morlaif.Feedback.Judging;
using Morlaif.Storage;
using Morlaif.Workers.Labeller;

namespace Morlaif.Cli;

/// <summary>
/// morlaif label: labels a dataset with a real judge over an OpenAI-compatible endpoint, without the rest
/// of the pipeline. The API key is read from an environment variable named by --api-key-env (never a flag
/// value, never logged).
/// </summary>
public static class LabelCommand
{
    public static readonly string[] Options = ["input", "principles", "principles-file", "judge", "endpoint", "model", "api-key-env", "concurrency", "out"];

    private static int Synthetic(CliArguments args, string input, string outDir)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spec = args.Get("principles") ?? "all";
        var names = spec == "all"
            ? Learning.World.GroundTruth.Principles.Select(p => p.Name).ToList()
            : spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var pairs = Feedback.Datasets.PreferenceDatasets.Read(input);
        var result = SyntheticLabels.Label(input, pairs, names, seed: 1);
        LabelFiles.WriteOutputs(Path.GetFullPath(outDir), new LabelReport(input, "synthetic", pairs.Count, result.Rows.Count, result.Rows.Count(r => r.Tie), 0,
            result.OrdersDisagreed, result.Abstentions, clock.Elapsed.TotalSeconds), result.Rows);
        Console.WriteLine($"labelled {pairs.Count} pairs x {names.Count} principles with the synthetic judge: {result.Rows.Count} rows; wrote {Path.Combine(outDir, "labels.jsonl")}");
        return 0;
    }

    public static async Task<int> Execute(CliArguments args)
    {
        var input = args.Get("input") ?? throw new UsageException("option '--input' is required (HH-RLHF or TRL JSONL)");
        var outDir = args.Get("out") ?? throw new UsageException("option '--out' is required");
        var judgeKind = args.Get("judge") ?? "openai";
        if (judgeKind == "synthetic") return Synthetic(args, input, outDir);
        if (judgeKind != "openai") throw new UsageException($"option '--judge': '{judgeKind}' is not synthetic or openai");
        var endpoint = args.Get("endpoint") ?? throw new UsageException("option '--endpoint' is required (e.g. http://127.0.0.1:11434/v1 for Ollama)");
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UsageException($"option '--endpoint': '{endpoint}' is not an http(s) URL");
        var model = args.Get("model") ?? throw new UsageException("option '--model' is required");
        var concurrency = (int)(args.GetLong("concurrency") ?? 8);
        if (concurrency < 1) throw new UsageException($"option '--concurrency': must be at least 1 (got {concurrency})");
        var set = args.Get("principles-file") is { } file ? Principles.Load(file) : Principles.Paper;
        var spec = args.Get("principles") ?? "all";
        IReadOnlyList<JudgePrinciple> principles;
        try
        {
            // "constitution": the single-objective baseline's labels, one random general principle per pair.
            principles = spec == "constitution" ? Principles.Constitution : Principles.Select(spec, set);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"option '--principles': {e.Message}");
        }
        var apiKey = "unused";
        if (args.Get("api-key-env") is { } variable)
            apiKey = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key
                ? key
                : throw new UsageException($"option '--api-key-env': environment variable '{variable}' is not set");

        var report = await LabelFiles.RunAsync(new LabelRequest(input, principles,
            new ChatJudgeOptions { Endpoint = uri, Model = model, ApiKey = apiKey }, concurrency, Path.GetFullPath(outDir), Constitution: spec == "constitution",
            Cache: new ArtifactJudgeCache(new LocalArtifactStore(Path.Combine(outDir, ".judge-cache")))));
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"labelled {report.Pairs} pairs x {principles.Count} principles: {report.Rows} rows ({report.Ties} ties), "
            + $"{report.Abstentions.Count} abstentions, {report.CacheHits} cached answers, {report.Seconds.ToString("F1", c)} s");
        foreach (var (p, share) in report.OrdersDisagreed) Console.WriteLine($"  {p}: orders disagreed on {(100 * share).ToString("F1", c)}%");
        Console.WriteLine($"wrote {Path.Combine(outDir, "labels.jsonl")} and label-report.json");
        return 0;
    }
}
