using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Morlaif.Feedback.Judging;

public sealed record ChatJudgeOptions
{
    public required Uri Endpoint { get; init; }
    public required string Model { get; init; }
    /// <summary>The API key itself (read from an environment variable by the caller; never logged).</summary>
    public string ApiKey { get; init; } = "unused";
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxRetries { get; init; } = 5;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>The longest Retry-After that is honoured as given; longer ones are capped to this.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// A judge over any OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM,
/// llama.cpp, LM Studio) through Microsoft.Extensions.AI: one token, log-probabilities of the top 5.
/// Retries live here and only here (the OpenAI SDK's own retries are turned off): 429 honours
/// Retry-After, 5xx and timeouts back off with jitter, each attempt has its own timeout. An answer that is
/// neither A nor B is retried too, and still unusable after the retries becomes a <see cref="JudgeAbstention"/>.
/// </summary>
public sealed class ChatJudge
{
    private readonly IChatClient _client;
    private readonly ResiliencePipeline<JudgeAnswer> _pipeline;

    public ChatJudgeOptions Options { get; }

    public ChatJudge(ChatJudgeOptions options)
    {
        Options = options;
        var openAi = new OpenAIClientOptions
        {
            Endpoint = options.Endpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan, // the pipeline's per-attempt timeout governs
        };
        _client = new ChatClient(options.Model, new ApiKeyCredential(options.ApiKey), openAi).AsIChatClient();
        _pipeline = new ResiliencePipelineBuilder<JudgeAnswer>()
            .AddRetry(new RetryStrategyOptions<JudgeAnswer>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                ShouldHandle = new PredicateBuilder<JudgeAnswer>()
                    .Handle<ClientResultException>(e => e.Status is 429 or 408 or 0 || e.Status >= 500)
                    .Handle<TimeoutRejectedException>()
                    .Handle<HttpRequestException>()
                    .Handle<OffFormatAnswer>(),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception)),
                OnRetry = args =>
                {
                    JudgeMetrics.Retry(options.Model, ErrorType(args.Outcome.Exception));
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.RequestTimeout)
            .Build();
    }

    /// <summary>Asks one question in one order.</summary>
    public async Task<JudgeAnswer> AskAsync(JudgeQuestion question, CancellationToken cancel = default)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async token => await AskOnceAsync(question, token), cancel);
        }
        catch (Exception e) when (e is OffFormatAnswer or ClientResultException or TimeoutRejectedException)
        {
            JudgeMetrics.Abstention(Options.Model, ErrorType(e));
            throw Abstention(e);
        }
    }

    private JudgeAbstention Abstention(Exception error) => error switch
    {
        OffFormatAnswer e => new JudgeAbstention($"off-format answer after {Options.MaxRetries + 1} attempts: '{e.Answer}'"),
        ClientResultException e => new JudgeAbstention($"HTTP {e.Status} after {Options.MaxRetries + 1} attempts"),
        _ => new JudgeAbstention($"timed out ({Options.RequestTimeout.TotalSeconds:F0} s) on every attempt"),
    };

    /// <summary>The metrics' error.type of a failed request: its HTTP status, a time-out, an answer neither A nor B.</summary>
    private static string ErrorType(Exception? error) => error switch
    {
        null => "none",
        ClientResultException { Status: > 0 } e => e.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TimeoutRejectedException or OperationCanceledException => "timeout",
        OffFormatAnswer => "off_format",
        _ => error.GetType().Name,
    };

    private async Task<JudgeAnswer> AskOnceAsync(JudgeQuestion question, CancellationToken cancel)
    {
        var options = new ChatOptions
        {
            MaxOutputTokens = 1,
            Temperature = 0,
            RawRepresentationFactory = _ => new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 5 },
        };
        var response = await RequestAsync(question.ToMessages(), options, cancel);
        if (response.RawRepresentation is ChatCompletion { ContentTokenLogProbabilities: { Count: > 0 } tokens })
        {
            var top = tokens[0].TopLogProbabilities;
            double LogProb(string option) =>
                top.Where(t => Normalise(t.Token) == option).Select(t => (double?)t.LogProbability).Max() ?? JudgeAnswer.MissingLogProb;
            var (a, b) = (Math.Max(JudgeAnswer.MissingLogProb, LogProb("A")), Math.Max(JudgeAnswer.MissingLogProb, LogProb("B")));
            if (a <= JudgeAnswer.MissingLogProb && b <= JudgeAnswer.MissingLogProb) throw new OffFormatAnswer(response.Text);
            return new JudgeAnswer(a, b, Provenance.LogProbs);
        }
        // No log-probabilities from this endpoint: read the answer, record a unit margin.
        return Normalise(response.Text) switch
        {
            "A" => new JudgeAnswer(0, -1, Provenance.ParsedAnswer),
            "B" => new JudgeAnswer(-1, 0, Provenance.ParsedAnswer),
            _ => throw new OffFormatAnswer(response.Text),
        };
    }

    /// <summary>One request to the endpoint, measured: its round trip, its outcome, the tokens it reports.</summary>
    private async Task<ChatResponse> RequestAsync(IEnumerable<ChatMessage> messages, ChatOptions options, CancellationToken cancel)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var response = await _client.GetResponseAsync(messages, options, cancel);
            JudgeMetrics.Request(Options.Model, System.Diagnostics.Stopwatch.GetElapsedTime(started), null,
                response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount);
            return response;
        }
        catch (Exception e)
        {
            JudgeMetrics.Request(Options.Model, System.Diagnostics.Stopwatch.GetElapsedTime(started), ErrorType(e), null, null);
            throw;
        }
    }

    private static string Normalise(string? token) => (token ?? "").Trim().Trim('"', '\'', '.', ':').ToUpperInvariant();

    /// <summary>The wait a 429 asks for (Retry-After in seconds or as a date), capped; null: the jittered exponential back-off.</summary>
    private TimeSpan? RetryAfter(Exception? error)
    {
        if (error is ClientResultException { Status: 429 } e && e.GetRawResponse() is { } raw && raw.Headers.TryGetValue("Retry-After", out var value))
        {
            if (double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                return TimeSpan.FromSeconds(Math.Min(seconds, Options.MaxRetryAfter.TotalSeconds));
            if (DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var when))
            {
                var wait = when - DateTimeOffset.UtcNow;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > Options.MaxRetryAfter ? Options.MaxRetryAfter : wait;
            }
        }
        return null;
    }

    private sealed class OffFormatAnswer(string? answer) : Exception($"answer '{answer}' is neither A nor B")
    {
        public string? Answer { get; } = answer;
    }
}
