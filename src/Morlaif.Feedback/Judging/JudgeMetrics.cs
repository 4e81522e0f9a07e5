using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Morlaif.Feedback.Judging;

/// <summary>
/// What the chat judge costs and how reliably it answers, on the "Morlaif" meter (the name Morlaif.Workers'
/// MorlaifTelemetry gives the pipeline's meter, which the hosts export over OTLP when it is configured). Every
/// measurement names the judge's model (gen_ai.request.model, as OpenTelemetry's GenAI conventions do).
/// </summary>
internal static class JudgeMetrics
{
    private static readonly Meter Meter = new("Morlaif");

    /// <summary>Every request sent to the endpoint, retries included; error.type names the ones that failed.</summary>
    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("morlaif.judge.requests", "{request}", "Requests sent to the judge's endpoint");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("morlaif.judge.duration", "s", "One request's round trip");

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("morlaif.judge.retries", "{retry}", "Requests asked again (429, 5xx, timeout, off-format answer)");

    private static readonly Counter<long> Abstentions = Meter.CreateCounter<long>("morlaif.judge.abstentions", "{question}", "Questions left unanswered after every retry");

    private static readonly Counter<long> Tokens = Meter.CreateCounter<long>("morlaif.judge.tokens", "{token}", "Tokens the endpoint reported, by gen_ai.token.type (input, output)");

    private static KeyValuePair<string, object?> Model(string model) => new("gen_ai.request.model", model);

    public static void Request(string model, TimeSpan elapsed, string? error, long? inputTokens, long? outputTokens)
    {
        var tags = new TagList { Model(model) };
        if (error is not null) tags.Add("error.type", error);
        Requests.Add(1, tags);
        Duration.Record(elapsed.TotalSeconds, tags);
        if (inputTokens is { } input) Tokens.Add(input, Model(model), new("gen_ai.token.type", "input"));
        if (outputTokens is { } output) Tokens.Add(output, Model(model), new("gen_ai.token.type", "output"));
    }

    public static void Retry(string model, string reason) => Retries.Add(1, Model(model), new("error.type", reason));

    public static void Abstention(string model, string reason) => Abstentions.Add(1, Model(model), new("error.type", reason));
}
