using System.Collections.Concurrent;
using Morlaif.Feedback.Datasets;
using Morlaif.Feedback.Judging;
using Morlaif.TestServers;
using static Morlaif.TestServers.FakeChatServer;

namespace Morlaif.Feedback.Tests;

internal sealed class MemoryCache : IJudgeCache
{
    public readonly ConcurrentDictionary<string, JudgeAnswer> Entries = new();
    public Task<JudgeAnswer?> GetAsync(string key, CancellationToken cancel) => Task.FromResult(Entries.TryGetValue(key, out var a) ? a : null);
    public Task PutAsync(string key, JudgeAnswer answer, CancellationToken cancel)
    {
        Entries[key] = answer;
        return Task.CompletedTask;
    }
}

public class LabellerTests
{
    // The judge prefers responses containing "good"; in the second pair the file's "chosen" is the bad one.
    private static readonly PreferenceExample[] Pairs =
    [
        new("\n\nHuman: q1\n\nAssistant:", "a good answer", "a poor answer", 1),
        new("\n\nHuman: q2\n\nAssistant:", "a poor reply", "a good reply", 2),
        new("\n\nHuman: q3\n\nAssistant:", "good", "bad", 3),
    ];

    private static readonly JudgePrinciple[] Two = [Principles.Paper[0], Principles.Paper[11]];

    private static ChatJudge Judge(FakeChatServer s) => new(new ChatJudgeOptions
    {
        Endpoint = s.Endpoint, Model = "fake-judge", MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(10),
    });

    [Fact]
    public async Task Every_pair_is_labelled_for_every_principle_in_both_orders()
    {
        await using var server = new FakeChatServer().Then(new PreferOption("good", 0.8));
        var result = await new JudgeLabeller(Judge(server)).LabelAsync(Pairs, Two, concurrency: 4);
        Assert.Equal(Pairs.Length * Two.Length * 2, server.Requests);
        Assert.Equal(6, result.Rows.Count);
        Assert.All(result.Rows, r => Assert.Contains("good", r.Chosen));
        Assert.All(result.Rows, r => Assert.Equal("logprobs", r.Provenance));
        Assert.Equal(["helpfulness", "conciseness"], result.Rows.Take(2).Select(r => r.Principle));
        Assert.Empty(result.Abstentions);
        Assert.All(result.OrdersDisagreed.Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public async Task No_more_requests_than_the_concurrency_are_in_flight()
    {
        await using var server = new FakeChatServer(latency: TimeSpan.FromMilliseconds(150)).Then(new PreferOption("good", 0.8));
        await new JudgeLabeller(Judge(server)).LabelAsync(Pairs, Two, concurrency: 3);
        Assert.Equal(12, server.Requests);
        Assert.Equal(3, server.MaxInFlight);
    }

    [Fact]
    public async Task A_rerun_with_the_cache_pays_for_nothing()
    {
        var cache = new MemoryCache();
        await using var server = new FakeChatServer().Then(new PreferOption("good", 0.8));
        var labeller = new JudgeLabeller(Judge(server), cache);
        var first = await labeller.LabelAsync(Pairs, Two, concurrency: 2);
        var second = await labeller.LabelAsync(Pairs, Two, concurrency: 2);
        Assert.Equal(12, server.Requests); // all twelve from the first run; none from the second
        Assert.Equal(0, first.CacheHits);
        Assert.Equal(12, second.CacheHits); // this call's hits, not a running total
        Assert.Equal(first.Rows, second.Rows);
    }

    [Fact]
    public async Task Unusable_answers_become_counted_abstentions_with_reasons()
    {
        await using var server = new FakeChatServer().Then(new TextOnly("I cannot decide"));
        var result = await new JudgeLabeller(Judge(server)).LabelAsync(Pairs, Two, concurrency: 2);
        Assert.Empty(result.Rows);
        Assert.Equal(6, result.Abstentions.Count);
        Assert.All(result.Abstentions, a => Assert.Contains("off-format", a.Reason));
        Assert.Equal([1, 1, 2, 2, 3, 3], result.Abstentions.Select(a => a.SourceLine));
    }

    [Fact]
    public void Principle_sets_select_by_name_and_load_from_files()
    {
        Assert.Equal(["detail", "conciseness"], Principles.Select("detail, conciseness", Principles.Paper).Select(p => p.Name));
        Assert.Contains("'bravery'", Assert.Throws<ArgumentException>(() => Principles.Select("bravery", Principles.Paper)).Message);
        var path = Path.Combine(Path.GetTempPath(), $"principles-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """[{"name": "brevity", "phrase": "the shortest"}, {"name": "warmth", "phrase": "the warmest"}]""");
        Assert.Equal(["brevity", "warmth"], Principles.Load(path).Select(p => p.Name));
        File.WriteAllText(path, """[{"name": "brevity", "phrase": ""}]""");
        Assert.Contains("non-empty", Assert.Throws<DatasetException>(() => Principles.Load(path)).Message);
    }
}

public class ConstitutionLabellingTests
{
    [Fact]
    public async Task Each_pair_is_judged_once_on_a_randomly_drawn_constitution_principle()
    {
        var pairs = Enumerable.Range(1, 12).Select(i => new PreferenceExample($"\n\nHuman: q{i}\n\nAssistant:", $"good {i}", $"bad {i}", i)).ToList();
        await using var server = new FakeChatServer().Then(new PreferOption("good", 0.7));
        var judge = new ChatJudge(new ChatJudgeOptions { Endpoint = server.Endpoint, Model = "fake-judge" });
        var result = await new JudgeLabeller(judge).LabelConstitutionAsync(pairs, Principles.Constitution, seed: 3, concurrency: 4);
        Assert.Equal(24, server.Requests); // one principle per pair, both orders
        // The principle asked about is drawn per pair from the constitution: several of them, nothing else.
        var asked = server.UserMessages.Select(m => Principles.Constitution.Single(p => m.Contains($"Which of these responses is {p.Phrase},", StringComparison.Ordinal))).ToList();
        Assert.True(asked.Distinct().Count() > 2, $"only {string.Join(", ", asked.Distinct().Select(p => p.Name))} were asked");
        Assert.Equal(pairs.Select(p => p.Line), result.Rows.Select(r => r.SourceLine));
        Assert.All(result.Rows, r => Assert.Equal("overall", r.Principle));
        Assert.All(result.Rows, r => Assert.StartsWith("good", r.Chosen));
    }
}
