using System.Diagnostics;
using Morlaif.Feedback.Judging;
using Morlaif.TestServers;
using static Morlaif.TestServers.FakeChatServer;

namespace Morlaif.Feedback.Tests;

public class ChatJudgeTests
{
    private static readonly JudgeQuestion Question = new(
        "\n\nHuman: what is the capital of france?\n\nAssistant:", "Paris.", "It is Rome, I think.", "the most factually accurate");

    private static ChatJudge Judge(FakeChatServer server, int retries = 3, double timeoutSeconds = 5) => new(new ChatJudgeOptions
    {
        Endpoint = server.Endpoint, Model = "fake-judge", MaxRetries = retries, BaseDelay = TimeSpan.FromMilliseconds(20),
        RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
    });

    [Fact]
    public async Task Label_and_margin_come_from_the_top_logprobs()
    {
        await using var server = new FakeChatServer().Then(new LogProbs(("B", -0.2), ("A", -1.7), ("C", -3)));
        var answer = await Judge(server).AskAsync(Question);
        Assert.False(answer.PrefersA);
        Assert.Equal(1.5, answer.Margin, 5); // the SDK carries log-probs as float
        Assert.Equal(Provenance.LogProbs, answer.Provenance);
    }

    [Fact]
    public async Task An_option_missing_from_the_top_five_counts_as_minus_ten()
    {
        await using var server = new FakeChatServer().Then(new LogProbs(("A", -0.05), ("The", -4), ("Option", -5)));
        var answer = await Judge(server).AskAsync(Question);
        Assert.True(answer.PrefersA);
        Assert.Equal(-10, answer.LogProbB);
        Assert.Equal(9.95, answer.Margin, 5);
    }

    [Fact]
    public async Task Without_logprobs_the_answer_is_parsed_with_a_unit_margin_and_said_so()
    {
        await using var server = new FakeChatServer().Then(new TextOnly(" b"));
        var answer = await Judge(server).AskAsync(Question);
        Assert.False(answer.PrefersA);
        Assert.Equal(1, answer.Margin);
        Assert.Equal(Provenance.ParsedAnswer, answer.Provenance);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_retry_after_then_succeeds()
    {
        await using var server = new FakeChatServer().Then(new Status(429, RetryAfter: "1"), new LogProbs(("A", -0.1), ("B", -3)));
        var clock = Stopwatch.StartNew();
        var answer = await Judge(server).AskAsync(Question);
        Assert.True(answer.PrefersA);
        Assert.Equal(2, server.Requests);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {clock.Elapsed.TotalSeconds:F2} s, Retry-After said 1 s");
    }

    [Fact]
    public async Task Server_errors_and_timeouts_are_retried()
    {
        // The hang outlasts any timeout; the timeout is long enough that a prompt answer never meets it on a loaded
        // machine (with 0.5 s, a clean clone's run once timed out the fourth, good answer too and asked a fifth time).
        await using var server = new FakeChatServer().Then(new Status(500), new Status(503), new Hang(TimeSpan.FromMinutes(10)), new LogProbs(("A", -0.1), ("B", -3)));
        var answer = await Judge(server, retries: 4, timeoutSeconds: 5).AskAsync(Question);
        Assert.True(answer.PrefersA);
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task An_answer_that_stays_unusable_is_an_abstention_with_its_reason()
    {
        await using var server = new FakeChatServer().Then(new TextOnly("Maybe"));
        var e = await Assert.ThrowsAsync<JudgeAbstention>(() => Judge(server, retries: 2).AskAsync(Question));
        Assert.Contains("off-format", e.Message);
        Assert.Contains("Maybe", e.Message);
        Assert.Equal(3, server.Requests); // asked again before giving up
        await using var failing = new FakeChatServer().Then(new Status(500));
        var e2 = await Assert.ThrowsAsync<JudgeAbstention>(() => Judge(failing, retries: 1).AskAsync(Question));
        Assert.Contains("HTTP 500", e2.Message);
    }

    [Fact]
    public async Task Both_orders_are_asked_and_a_position_biased_judge_gives_a_tie()
    {
        // A judge that always says "A" whatever is shown: its two orders disagree about the same pair.
        await using var biased = new FakeChatServer().Then(new LogProbs(("A", -0.1), ("B", -2.0)));
        var label = await BothOrders.LabelAsync(Judge(biased), Question);
        Assert.Equal(2, biased.Requests);
        Assert.True(label.OrdersDisagreed);
        Assert.Equal((0.5, 0.0), (label.PreferA, label.Margin));

        // A judge that follows the content agrees with itself in both orders.
        await using var consistent = new FakeChatServer().Then(new PreferOption("Paris", 0.9));
        var good = await BothOrders.LabelAsync(Judge(consistent), Question);
        Assert.False(good.OrdersDisagreed);
        Assert.Equal(1.0, good.PreferA);
        Assert.Equal(Math.Log(0.9) - Math.Log(0.1), good.Margin, 5);
    }

    [Fact]
    public async Task Requests_their_time_retries_abstentions_and_tokens_are_measured_per_model()
    {
        // The meter is the process's: other tests' judges measure too, so this one's model name picks out its own.
        var model = $"metered-{Guid.NewGuid():N}";
        var measured = new System.Collections.Concurrent.ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Morlaif" && instrument.Name.StartsWith("morlaif.judge.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var all = new Dictionary<string, object?>();
            foreach (var t in tags) all[t.Key] = t.Value;
            if (Equals(all.GetValueOrDefault("gen_ai.request.model"), model)) measured.Enqueue((instrument.Name, value, all));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        // A 500 then an answer; then an answer that is neither A nor B, asked twice and left unanswered.
        await using var server = new FakeChatServer().Then(new Status(500), new LogProbs(("A", -0.1), ("B", -3)), new TextOnly("Maybe"));
        var judge = new ChatJudge(new ChatJudgeOptions { Endpoint = server.Endpoint, Model = model, MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(20) });
        await judge.AskAsync(Question);
        await Assert.ThrowsAsync<JudgeAbstention>(() => judge.AskAsync(Question));

        double Sum(string name, Func<Dictionary<string, object?>, bool>? where = null) =>
            measured.Where(m => m.Name == name && (where?.Invoke(m.Tags) ?? true)).Sum(m => m.Value);
        Assert.Equal(4, Sum("morlaif.judge.requests"));
        Assert.Equal(1, Sum("morlaif.judge.requests", t => Equals(t.GetValueOrDefault("error.type"), "500")));
        Assert.Equal(4, measured.Count(m => m.Name == "morlaif.judge.duration" && m.Value > 0));
        Assert.Equal(["500", "off_format"], measured.Where(m => m.Name == "morlaif.judge.retries").Select(m => (string)m.Tags["error.type"]!).Order());
        Assert.Equal("off_format", Assert.Single(measured, m => m.Name == "morlaif.judge.abstentions").Tags["error.type"]);
        // The fake endpoint reports one prompt and one completion token per answer; a 500 reports none.
        Assert.Equal(3, Sum("morlaif.judge.tokens", t => Equals(t["gen_ai.token.type"], "input")));
        Assert.Equal(3, Sum("morlaif.judge.tokens", t => Equals(t["gen_ai.token.type"], "output")));
    }
}
