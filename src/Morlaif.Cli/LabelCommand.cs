using System.CommandLine;
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
    private static readonly Option<string> Input = new("--input") { Description = "the pairs: HH-RLHF (chosen/rejected) or TRL preference JSONL", HelpName = "FILE", Required = true };
    private static readonly Option<string?> Out = CliOptions.Out("where labels.jsonl and label-report.json go", required: true);
    private static readonly Option<string> Judge =
        new Option<string>("--judge") { Description = "an OpenAI-compatible endpoint's model, or the synthetic world's judge (for the world's prompts)", DefaultValueFactory = _ => "openai" }
            .Only("openai", "synthetic");
    private static readonly Option<string?> Endpoint = new("--endpoint") { Description = "the judge's base URL (with --judge openai), e.g. http://127.0.0.1:11434/v1 for Ollama", HelpName = "URL" };
    private static readonly Option<string?> Model = new("--model") { Description = "the judge's model name (with --judge openai)", HelpName = "NAME" };
    private static readonly Option<string> PrincipleList =
        new("--principles") { Description = "comma-separated principle names, 'all', or 'constitution' (the baseline's labels)", HelpName = "P1,P2", DefaultValueFactory = _ => "all" };
    private static readonly Option<string?> PrinciplesFile = new("--principles-file") { Description = "principles of your own (JSON) instead of the paper's", HelpName = "FILE" };
    private static readonly Option<string?> ApiKeyEnv = new("--api-key-env") { Description = "the environment variable holding the API key (never a flag value)", HelpName = "VAR" };
    private static readonly Option<long> Concurrency = new("--concurrency") { Description = "judge requests in flight at once", HelpName = "N", DefaultValueFactory = _ => 8 };

    public static Command Create() => CliOptions.Command("label",
        "Labels preference pairs with a judge, once per principle and in both orders, without the rest of the pipeline.",
        "morlaif label --input pairs.jsonl --endpoint http://127.0.0.1:11434/v1 --model qwen2.5:7b --out labels",
        [Input, Out, Judge, Endpoint, Model, PrincipleList, PrinciplesFile, ApiKeyEnv, Concurrency], (r, _) => Execute(r));

    private static int Synthetic(ParseResult r, string input, string outDir)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spec = r.GetValue(PrincipleList)!;
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

    private static async Task<int> Execute(ParseResult r)
    {
        var input = r.GetValue(Input)!;
        var outDir = r.GetValue(Out)!;
        if (r.GetValue(Judge) == "synthetic") return Synthetic(r, input, outDir);
        var endpoint = r.GetValue(Endpoint) ?? throw new UsageException("option '--endpoint' is required with --judge openai (e.g. http://127.0.0.1:11434/v1 for Ollama)");
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UsageException($"option '--endpoint': '{endpoint}' is not an http(s) URL");
        var model = r.GetValue(Model) ?? throw new UsageException("option '--model' is required with --judge openai");
        var concurrency = r.GetValue(Concurrency);
        if (concurrency is < 1 or > 1024) throw new UsageException($"option '--concurrency': must be 1 to 1024 (got {concurrency})");
        var set = r.GetValue(PrinciplesFile) is { } file ? Principles.Load(file) : Principles.Paper;
        var spec = r.GetValue(PrincipleList)!;
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
        if (r.GetValue(ApiKeyEnv) is { } variable)
            apiKey = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key
                ? key
                : throw new UsageException($"option '--api-key-env': environment variable '{variable}' is not set");

        var c = CultureInfo.InvariantCulture;
        // The labeller reads the pairs and reports each answered question out of all of them.
        var report = await ProgressView.TaskAsync("judging pair-principle questions, both orders", (done, line) =>
        {
            // Plain output gets a line at every tenth of the questions; a terminal gets the bar.
            var (gate, lastTenth) = (new Lock(), 0);
            void Answered(int n, int total)
            {
                done(n, total);
                if (ProgressView.Live) return;
                lock (gate)
                {
                    if (n * 10 / total <= lastTenth) return;
                    lastTenth = n * 10 / total;
                    line($"{DateTime.Now.ToString("HH:mm:ss", c)} label {n}/{total} questions");
                }
            }
            return LabelFiles.RunAsync(new LabelRequest(input, principles,
                new ChatJudgeOptions { Endpoint = uri, Model = model, ApiKey = apiKey }, (int)concurrency, Path.GetFullPath(outDir), Constitution: spec == "constitution",
                Cache: new ArtifactJudgeCache(new LocalArtifactStore(Path.Combine(outDir, ".judge-cache"))), Answered: Answered));
        });
        Console.WriteLine($"labelled {report.Pairs} pairs x {principles.Count} principles: {report.Rows} rows ({report.Ties} ties), "
            + $"{report.Abstentions.Count} abstentions, {report.CacheHits} cached answers, {report.Seconds.ToString("F1", c)} s");
        foreach (var (p, share) in report.OrdersDisagreed) Console.WriteLine($"  {p}: orders disagreed on {(100 * share).ToString("F1", c)}%");
        Console.WriteLine($"wrote {Path.Combine(outDir, "labels.jsonl")} and label-report.json");
        return 0;
    }
}
