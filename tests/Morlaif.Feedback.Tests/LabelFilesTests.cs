using System.Text.Json;
using Morlaif.Feedback.Datasets;
using Morlaif.Feedback.Judging;
using Morlaif.TestServers;
using static Morlaif.TestServers.FakeChatServer;

namespace Morlaif.Feedback.Tests;

public class LabelFilesTests
{
    private static string Dir() => Path.Combine(Path.GetTempPath(), $"morlaif-label-{Guid.NewGuid():N}");

    private static LabelRequest Request(FakeChatServer server, string input, string outDir, IJudgeCache? cache = null) => new(input, [Principles.Paper[2]],
        new ChatJudgeOptions { Endpoint = server.Endpoint, Model = "fake-judge", MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(10) }, 4, outDir, Cache: cache);

    [Fact]
    public async Task A_dataset_is_labelled_into_trl_jsonl_and_a_rerun_pays_nothing()
    {
        var dir = Dir();
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(input,
        [
            """{"prompt": "capital of france?", "chosen": "Rome, I think.", "rejected": "It is Paris, a good answer."}""",
            """{"chosen": "\n\nHuman: 2+2?\n\nAssistant: 4, good.", "rejected": "\n\nHuman: 2+2?\n\nAssistant: 5."}""",
        ]);
        await using var server = new FakeChatServer().Then(new PreferOption("good", 0.9));
        var outDir = Path.Combine(dir, "out");
        var cache = new MemoryCache();
        var answered = new System.Collections.Concurrent.ConcurrentBag<(int Done, int Total)>();
        var report = await LabelFiles.RunAsync(Request(server, input, outDir, cache) with { Answered = (n, total) => answered.Add((n, total)) });
        Assert.Equal((2, 2, 0), (report.Pairs, report.Rows, report.Abstentions.Count));
        Assert.Equal([(1, 2), (2, 2)], answered.Order()); // progress: each question once, as it is answered

        var rows = File.ReadAllLines(Path.Combine(outDir, "labels.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("It is Paris, a good answer.", rows[0].GetProperty("chosen").GetString()); // the judge's preference, not the file's order
        foreach (var column in new[] { "prompt", "chosen", "rejected", "principle", "margin", "provenance" })
            Assert.True(rows[0].TryGetProperty(column, out _), column);
        Assert.Equal("factuality", rows[1].GetProperty("principle").GetString());
        Assert.True(File.Exists(Path.Combine(outDir, "label-report.json")));

        var requests = server.Requests;
        var again = await LabelFiles.RunAsync(Request(server, input, outDir, cache));
        Assert.Equal(requests, server.Requests);
        Assert.Equal(4, again.CacheHits);
    }

    [Fact]
    public async Task A_bad_line_fails_before_any_request_and_writes_nothing()
    {
        var dir = Dir();
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(input, ["""{"prompt": "p", "chosen": "a", "rejected": "b"}""", """{"prompt": "p", "chosen": "a"}"""]);
        await using var server = new FakeChatServer();
        var outDir = Path.Combine(dir, "out");
        var e = await Assert.ThrowsAsync<DatasetException>(() => LabelFiles.RunAsync(Request(server, input, outDir)));
        Assert.Contains("pairs.jsonl:2: missing field 'rejected'", e.Message);
        Assert.Equal(0, server.Requests);
        Assert.False(Directory.Exists(outDir));
    }
}
