using System.Text.Json;
using Morlaif.Feedback.Datasets;
using Morlaif.Feedback.Judging;

namespace Morlaif.Feedback;

/// <summary>What `morlaif label` was asked to do.</summary>
/// <param name="Constitution">label each pair once with a random one of <paramref name="Principles"/> (the baseline's labels)</param>
/// <param name="Cache">answers already paid for (the CLI keeps them in OUT/.judge-cache through the artifact store)</param>
public sealed record LabelRequest(string Input, IReadOnlyList<JudgePrinciple> Principles, ChatJudgeOptions Judge, int Concurrency, string OutDir,
    bool Constitution = false, int Seed = 1, IJudgeCache? Cache = null, Action<int, int>? Answered = null);

/// <summary>The counts a labelling run reports (label-report.json).</summary>
public sealed record LabelReport(string Input, string Model, int Pairs, int Rows, int Ties, int CacheHits,
    IReadOnlyDictionary<string, double> OrdersDisagreed, IReadOnlyList<Abstention> Abstentions, double Seconds);

/// <summary>
/// Labels a dataset file into OUT/labels.jsonl and OUT/label-report.json. Input is checked whole before
/// the first request; outputs appear only once everything is labelled (written aside, then renamed).
/// With a cache, a rerun pays only for questions not yet answered.
/// </summary>
public static class LabelFiles
{
    public static async Task<LabelReport> RunAsync(LabelRequest request, CancellationToken cancel = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pairs = PreferenceDatasets.Read(request.Input);
        Directory.CreateDirectory(request.OutDir);
        var judge = new ChatJudge(request.Judge);
        var labeller = new JudgeLabeller(judge, request.Cache, request.Answered);
        var result = request.Constitution
            ? await labeller.LabelConstitutionAsync(pairs, request.Principles, request.Seed, request.Concurrency, cancel)
            : await labeller.LabelAsync(pairs, request.Principles, request.Concurrency, cancel);
        var report = new LabelReport(request.Input, request.Judge.Model, pairs.Count, result.Rows.Count, result.Rows.Count(r => r.Tie),
            result.CacheHits, result.OrdersDisagreed, result.Abstentions, clock.Elapsed.TotalSeconds);
        WriteOutputs(request.OutDir, report, result.Rows);
        return report;
    }

    /// <summary>labels.jsonl then label-report.json, each written aside and renamed into place.</summary>
    public static void WriteOutputs(string outDir, LabelReport report, IReadOnlyList<LabelledRow> rows)
    {
        Directory.CreateDirectory(outDir);
        JudgeLabeller.WriteJsonl(rows, Path.Combine(outDir, "labels.jsonl"));
        var tmp = Path.Combine(outDir, $"label-report.json.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(tmp, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        File.Move(tmp, Path.Combine(outDir, "label-report.json"), overwrite: true);
    }
}
