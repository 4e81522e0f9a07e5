using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Morlaif.Feedback.Datasets;
using Morlaif.Feedback.Judging;

namespace Morlaif.Feedback;

/// <summary>One labelled row, in TRL's preference format plus the principle, the margin and how the label was read.</summary>
public sealed record LabelledRow(string Prompt, string Chosen, string Rejected, string Principle, double Margin, string Provenance, bool Tie, int SourceLine);

/// <summary>A question the judge could not answer usably: kept, with its reason, never dropped silently.</summary>
public sealed record Abstention(int SourceLine, string Principle, string Reason);

public sealed record LabellingResult(IReadOnlyList<LabelledRow> Rows, IReadOnlyList<Abstention> Abstentions, IReadOnlyDictionary<string, double> OrdersDisagreed, int CacheHits);

/// <summary>Remembers answers by (model, question hash), so a rerun never pays twice for the same question.</summary>
public interface IJudgeCache
{
    Task<JudgeAnswer?> GetAsync(string key, CancellationToken cancel);
    Task PutAsync(string key, JudgeAnswer answer, CancellationToken cancel);
}

/// <summary>
/// Labels every pair for every principle, both orders, with a bounded number of requests in flight. The
/// chosen/rejected columns follow the judge: a pair the judge prefers the other way round is swapped.
/// </summary>
public sealed class Labeller(ChatJudge judge, IJudgeCache? cache = null)
{
    private int _cacheHits;

    public async Task<LabellingResult> LabelAsync(IReadOnlyList<PreferenceExample> pairs, IReadOnlyList<JudgePrinciple> principles, int concurrency,
        CancellationToken cancel = default)
    {
        if (concurrency < 1) throw new ArgumentOutOfRangeException(nameof(concurrency), "must be at least 1");
        using var gate = new SemaphoreSlim(concurrency);
        var rows = new ConcurrentBag<(int Order, LabelledRow Row)>();
        var abstentions = new ConcurrentBag<Abstention>();
        var disagreed = new ConcurrentDictionary<string, int>();
        var jobs = pairs.SelectMany((pair, i) => principles.Select((p, j) => (pair, p, order: i * principles.Count + j))).Select(async job =>
        {
            var q = new JudgeQuestion(job.pair.Prompt, job.pair.Chosen, job.pair.Rejected, job.p.Phrase);
            try
            {
                var asked = AskAsync(q, gate, cancel);
                var swapped = AskAsync(q.Swapped(), gate, cancel);
                var label = BothOrders.Combine(await asked, await swapped);
                if (label.OrdersDisagreed) disagreed.AddOrUpdate(job.p.Name, 1, (_, n) => n + 1);
                var keep = label.PreferA >= 0.5;
                rows.Add((job.order, new LabelledRow(job.pair.Prompt, keep ? job.pair.Chosen : job.pair.Rejected, keep ? job.pair.Rejected : job.pair.Chosen,
                    job.p.Name, label.Margin, label.Provenance == Provenance.LogProbs ? "logprobs" : "parsed-answer", label.OrdersDisagreed, job.pair.Line)));
            }
            catch (JudgeAbstention e)
            {
                abstentions.Add(new Abstention(job.pair.Line, job.p.Name, e.Message));
            }
        }).ToList();
        await Task.WhenAll(jobs);
        return new LabellingResult(
            rows.OrderBy(r => r.Order).Select(r => r.Row).ToList(),
            abstentions.OrderBy(a => a.SourceLine).ThenBy(a => a.Principle, StringComparer.Ordinal).ToList(),
            principles.ToDictionary(p => p.Name, p => (double)disagreed.GetValueOrDefault(p.Name) / pairs.Count),
            _cacheHits);
    }

    /// <summary>
    /// Labels each question in both orders, in input order; an abstention is null with its reason. For
    /// callers that keep their own pair structure (the pipeline's labeller).
    /// </summary>
    public async Task<(PairLabel?[] Labels, string?[] Reasons)> JudgeAsync(IReadOnlyList<JudgeQuestion> questions, int concurrency, CancellationToken cancel = default)
    {
        if (concurrency < 1) throw new ArgumentOutOfRangeException(nameof(concurrency), "must be at least 1");
        using var gate = new SemaphoreSlim(concurrency);
        var labels = new PairLabel?[questions.Count];
        var reasons = new string?[questions.Count];
        await Task.WhenAll(questions.Select(async (q, i) =>
        {
            try
            {
                var asked = AskAsync(q, gate, cancel);
                var swapped = AskAsync(q.Swapped(), gate, cancel);
                labels[i] = BothOrders.Combine(await asked, await swapped);
            }
            catch (JudgeAbstention e)
            {
                reasons[i] = e.Message;
            }
        }));
        return (labels, reasons);
    }

    /// <summary>
    /// The single-objective baseline's labels: each pair is judged once (both orders) on one constitution
    /// principle drawn at random with <paramref name="seed"/>; every row is tagged "overall".
    /// </summary>
    public async Task<LabellingResult> LabelConstitutionAsync(IReadOnlyList<PreferenceExample> pairs, IReadOnlyList<JudgePrinciple> constitution, int seed,
        int concurrency, CancellationToken cancel = default)
    {
        var rng = new Random(seed);
        var drawn = pairs.Select(_ => constitution[rng.Next(constitution.Count)]).ToList();
        var groups = pairs.Select((pair, i) => (pair, principle: drawn[i])).GroupBy(x => x.principle);
        var rows = new List<LabelledRow>();
        var abstentions = new List<Abstention>();
        var disagreed = 0.0;
        foreach (var g in groups)
        {
            var r = await LabelAsync(g.Select(x => x.pair).ToList(), [g.Key], concurrency, cancel);
            rows.AddRange(r.Rows.Select(row => row with { Principle = "overall" }));
            abstentions.AddRange(r.Abstentions.Select(a => a with { Principle = "overall" }));
            disagreed += r.OrdersDisagreed[g.Key.Name] * g.Count();
        }
        return new LabellingResult(rows.OrderBy(r => r.SourceLine).ToList(), abstentions.OrderBy(a => a.SourceLine).ToList(),
            new Dictionary<string, double> { ["overall"] = disagreed / pairs.Count }, _cacheHits);
    }

    private async Task<JudgeAnswer> AskAsync(JudgeQuestion q, SemaphoreSlim gate, CancellationToken cancel)
    {
        var key = Key(q);
        if (cache is not null && await cache.GetAsync(key, cancel) is { } hit)
        {
            Interlocked.Increment(ref _cacheHits);
            return hit;
        }
        await gate.WaitAsync(cancel);
        JudgeAnswer answer;
        try
        {
            answer = await judge.AskAsync(q, cancel);
        }
        finally
        {
            gate.Release();
        }
        if (cache is not null) await cache.PutAsync(key, answer, cancel);
        return answer;
    }

    /// <summary>(model, SHA-256 of the exact messages): the same question to the same model is the same answer.</summary>
    public string Key(JudgeQuestion q)
    {
        var text = judge.Options.Model + "\n" + string.Join("\n", q.ToMessages().Select(m => $"{m.Role}: {m.Text}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Writes the rows as JSONL, all or nothing: to a temporary file first, renamed into place at the end.</summary>
    public static void WriteJsonl(IReadOnlyList<LabelledRow> rows, string path)
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllLines(tmp, rows.Select(r => JsonSerializer.Serialize(r, options)));
        File.Move(tmp, path, overwrite: true);
    }
}
