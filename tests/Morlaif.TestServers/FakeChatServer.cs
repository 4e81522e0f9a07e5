using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Morlaif.TestServers;

/// <summary>
/// A chat-completions server on 127.0.0.1 with scripted behaviour: the real client code talks HTTP to it.
/// Each request takes the next scripted reply (the last one repeats).
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    public abstract record Reply;
    /// <summary>Answers with log-probabilities for the tokens given (the first one is the answer).</summary>
    public sealed record LogProbs(params (string Token, double LogProb)[] Top) : Reply;
    public sealed record TextOnly(string Answer) : Reply;
    public sealed record Status(int Code, string? RetryAfter = null) : Reply;
    public sealed record Hang(TimeSpan For) : Reply;
    /// <summary>Decides from the user prompt: prefers whichever option text contains the marker.</summary>
    public sealed record PreferOption(string Marker, double Confidence) : Reply;
    /// <summary>Prefers the longer of the two options (a rule a PM can learn from any text); equal lengths get "B", a tie once both orders are asked.</summary>
    public sealed record PreferLonger(double Confidence) : Reply;
    /// <summary>
    /// A judge of length that reads the question: the shorter option when the principle asks for concision ("concise"
    /// in its phrase), the longer one otherwise; equal lengths get "B".
    /// </summary>
    public sealed record ByLength(double Confidence) : Reply;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Reply> _script = new();
    private Reply _last = new LogProbs(("A", -0.1), ("B", -2.5));

    public int Requests;
    private int _inFlight;
    public int MaxInFlight;
    /// <summary>The last user message of every request, as the judge sent it.</summary>
    public ConcurrentQueue<string> UserMessages { get; } = new();
    public Uri Endpoint { get; }

    public FakeChatServer(TimeSpan? latency = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            Interlocked.Increment(ref Requests);
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while (now > (seen = MaxInFlight) && Interlocked.CompareExchange(ref MaxInFlight, now, seen) != seen) { }
            try
            {
            using var body = await JsonDocument.ParseAsync(http.Request.Body);
            var user = body.RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString() ?? "";
            UserMessages.Enqueue(user);
            if (latency is { } l) await Task.Delay(l);
            var reply = _script.TryDequeue(out var next) ? _last = next : _last;
            switch (reply)
            {
                case Status s:
                    if (s.RetryAfter is not null) http.Response.Headers["Retry-After"] = s.RetryAfter;
                    http.Response.StatusCode = s.Code;
                    await http.Response.WriteAsync("""{"error":{"message":"scripted failure"}}""");
                    return;
                case Hang h:
                    await Task.Delay(h.For, http.RequestAborted).ContinueWith(_ => { });
                    return;
                case TextOnly t:
                    await Write(http, t.Answer, null);
                    return;
                case LogProbs lp:
                    await Write(http, lp.Top[0].Token, lp.Top);
                    return;
                case PreferLonger longer:
                    await WriteLengthVerdict(http, user, shorter: false, longer.Confidence);
                    return;
                case ByLength byLength:
                    var question = user[user.LastIndexOf("\n\nWhich of these", StringComparison.Ordinal)..];
                    await WriteLengthVerdict(http, user, shorter: question.Contains("concise", StringComparison.OrdinalIgnoreCase), byLength.Confidence);
                    return;
                case PreferOption p:
                    var a = user[user.IndexOf("Option A:", StringComparison.Ordinal)..user.IndexOf("Option B:", StringComparison.Ordinal)];
                    var answer = a.Contains(p.Marker, StringComparison.Ordinal) ? "A" : "B";
                    var other = answer == "A" ? "B" : "A";
                    await Write(http, answer, [(answer, Math.Log(p.Confidence)), (other, Math.Log(1 - p.Confidence))]);
                    return;
            }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Endpoint = new Uri(_app.Urls.First() + "/v1");
    }

    public FakeChatServer Then(params Reply[] replies)
    {
        foreach (var r in replies) _script.Enqueue(r);
        return this;
    }

    private static Task WriteLengthVerdict(HttpContext http, string user, bool shorter, double confidence)
    {
        var start = user.IndexOf("Option A:", StringComparison.Ordinal);
        var middle = user.IndexOf("\nOption B:", start, StringComparison.Ordinal);
        var end = user.IndexOf("\n\nWhich of these", middle, StringComparison.Ordinal);
        var (lengthA, lengthB) = (user[(start + 9)..middle].Trim().Length, user[(middle + 10)..end].Trim().Length);
        var pick = (shorter ? lengthA < lengthB : lengthA > lengthB) ? "A" : "B";
        return Write(http, pick, [(pick, Math.Log(confidence)), (pick == "A" ? "B" : "A", Math.Log(1 - confidence))]);
    }

    private static Task Write(HttpContext http, string answer, (string Token, double LogProb)[]? top)
    {
        object? logprobs = top is null ? null : new
        {
            content = new[]
            {
                new
                {
                    token = answer, logprob = top[0].LogProb, bytes = (int[]?)null,
                    top_logprobs = top.Select(t => new { token = t.Token, logprob = t.LogProb, bytes = (int[]?)null }).ToArray(),
                },
            },
        };
        var payload = new
        {
            id = "chatcmpl-fake", @object = "chat.completion", created = 0, model = "fake-judge",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, finish_reason = "length", logprobs } },
            usage = new { prompt_tokens = 1, completion_tokens = 1, total_tokens = 2 },
        };
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(payload));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
