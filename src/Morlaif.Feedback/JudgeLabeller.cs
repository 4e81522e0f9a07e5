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
/// Labels every pair for every principle (or, for the baseline, on one drawn constitution principle), both
/// orders, with a bounded number of requests in flight, through the cache when there is one.
/// </summary>
/// <param name="answered">called as each question is answered in both orders (or abstained on): how many of how many, from any thread</param>
public sealed class JudgeLabeller(ChatJudge judge, IJudgeCache? cache = null, Action<int, int>? answered = null)
{
    public Task<LabellingResult> LabelAsync(IReadOnlyList<PreferenceExample> pairs, IReadOnlyList<JudgePrinciple> principles, int concurrency,
        CancellationToken cancel = default) =>
        LabelJobsAsync([.. pairs.SelectMany(pair => principles.Select(p => new Job(pair, p, p.Name)))], pairs.Count,
            principles.Select(p => p.Name), concurrency, cancel);

    /// <summary>
    /// The single-objective baseline's labels: each pair is judged once (both orders) on one constitution
    /// principle drawn at random with <paramref name="seed"/>; every row is tagged "overall".
    /// </summary>
    public Task<LabellingResult> LabelConstitutionAsync(IReadOnlyList<PreferenceExample> pairs, IReadOnlyList<JudgePrinciple> constitution, int seed,
        int concurrency, CancellationToken cancel = default)
    {
        var rng = new Random(seed);
        return LabelJobsAsync([.. pairs.Select(pair => new Job(pair, constitution[rng.Next(constitution.Count)], "overall"))], pairs.Count,
            ["overall"], concurrency, cancel);
    }

    /// <summary>
    /// Labels each question in both orders, in input order; an abstention is null with its reason. For
    /// callers that keep their own pair structure (the pipeline's labeller).
    /// </summary>
    public Task<(PairLabel?[] Labels, string?[] Reasons)> JudgeAsync(IReadOnlyList<JudgeQuestion> questions, int concurrency, CancellationToken cancel = default) =>
        JudgeAsync(questions, concurrency, new CacheHits(), cancel);

    /// <summary>A pair asked about one principle; its rows are tagged <paramref name="Name"/>.</summary>
    private sealed record Job(PreferenceExample Pair, JudgePrinciple Principle, string Name);

    private sealed class CacheHits
    {
        public int Count;
    }

    /// <summary>
    /// Every job in one pass with at most <paramref name="concurrency"/> requests in flight. The chosen and
    /// rejected columns follow the judge: a pair the judge prefers the other way round is swapped.
    /// </summary>
    private async Task<LabellingResult> LabelJobsAsync(IReadOnlyList<Job> jobs, int pairCount, IEnumerable<string> names, int concurrency, CancellationToken cancel)
    {
        var hits = new CacheHits();
        var (labels, reasons) = await JudgeAsync(jobs.Select(j => new JudgeQuestion(j.Pair.Prompt, j.Pair.Chosen, j.Pair.Rejected, j.Principle.Phrase)).ToList(),
            concurrency, hits, cancel);
        var rows = new List<LabelledRow>();
        var abstentions = new List<Abstention>();
        var disagreed = names.ToDictionary(n => n, _ => 0);
        for (var i = 0; i < jobs.Count; i++)
        {
            var (pair, _, name) = jobs[i];
            if (labels[i] is not { } label)
            {
                abstentions.Add(new Abstention(pair.Line, name, reasons[i]!));
                continue;
            }
            if (label.OrdersDisagreed) disagreed[name]++;
            var keep = label.PreferA >= 0.5;
            rows.Add(new LabelledRow(pair.Prompt, keep ? pair.Chosen : pair.Rejected, keep ? pair.Rejected : pair.Chosen,
                name, label.Margin, label.Provenance == Provenance.LogProbs ? "logprobs" : "parsed-answer", label.OrdersDisagreed, pair.Line));
        }
        return new LabellingResult(rows,
            abstentions.OrderBy(a => a.SourceLine).ThenBy(a => a.Principle, StringComparer.Ordinal).ToList(),
            disagreed.ToDictionary(kv => kv.Key, kv => (double)kv.Value / pairCount),
            hits.Count);
    }

    private async Task<(PairLabel?[] Labels, string?[] Reasons)> JudgeAsync(IReadOnlyList<JudgeQuestion> questions, int concurrency,
        CacheHits hits, CancellationToken cancel)
    {
        if (concurrency < 1) throw new ArgumentOutOfRangeException(nameof(concurrency), "must be at least 1");
        using var gate = new SemaphoreSlim(concurrency);
        var labels = new PairLabel?[questions.Count];
        var reasons = new string?[questions.Count];
        var done = 0;
        await Task.WhenAll(questions.Select(async (q, i) =>
        {
            try
            {
                var asked = AskAsync(q, gate, hits, cancel);
                var swapped = AskAsync(q.Swapped(), gate, hits, cancel);
                labels[i] = BothOrders.Combine(await asked, await swapped);
            }
            catch (JudgeAbstention e)
            {
                reasons[i] = e.Message;
            }
            answered?.Invoke(Interlocked.Increment(ref done), questions.Count);
        }));
        return (labels, reasons);
    }

    private async Task<JudgeAnswer> AskAsync(JudgeQuestion q, SemaphoreSlim gate, CacheHits hits, CancellationToken cancel)
    {
        var key = Key(q);
        if (cache is not null && await cache.GetAsync(key, cancel) is { } hit)
        {
            Interlocked.Increment(ref hits.Count);
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
    private string Key(JudgeQuestion q)
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
