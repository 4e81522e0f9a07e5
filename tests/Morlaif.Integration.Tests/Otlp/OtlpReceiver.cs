using System.Collections.Concurrent;
using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Morlaif.Integration.Tests.Otlp;

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1 (the protocol http/protobuf): POST /v1/traces, /v1/metrics and /v1/logs with a
/// binary protobuf Export*ServiceRequest body, answered 200 with an empty Export*ServiceResponse (no fields: zero
/// bytes). What it decodes is kept for the test to read.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();
    public ConcurrentQueue<OtlpMetric> Metrics { get; } = new();
    public ConcurrentQueue<OtlpLog> Logs { get; } = new();

    /// <summary>Requests that were not OTLP/HTTP protobuf or did not decode: each a line saying why.</summary>
    public ConcurrentQueue<string> Refused { get; } = new();

    /// <summary>The base address, as OTEL_EXPORTER_OTLP_ENDPOINT gives it (the exporter appends /v1/&lt;signal&gt;).</summary>
    public Uri Endpoint { get; }

    public OtlpReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/traces", http => Receive(http, body => Add(Spans, Otlp.Spans(body))));
        _app.MapPost("/v1/metrics", http => Receive(http, body => Add(Metrics, Otlp.Metrics(body))));
        _app.MapPost("/v1/logs", http => Receive(http, body => Add(Logs, Otlp.Logs(body))));
        _app.StartAsync().GetAwaiter().GetResult();
        Endpoint = new Uri(_app.Urls.First());
    }

    /// <summary>Released once per export request answered: a test waits for the next one rather than for a time.</summary>
    private readonly SemaphoreSlim _exports = new(0);

    /// <summary>Waits for the next export request (any signal, decoded or refused); false when none came within <paramref name="timeout"/>.</summary>
    public Task<bool> NextExportAsync(TimeSpan timeout) => _exports.WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);

    private async Task Receive(HttpContext http, Action<ReadOnlyMemory<byte>> decode)
    {
        try
        {
            await Answer(http, decode);
        }
        finally
        {
            _exports.Release();
        }
    }

    private async Task Answer(HttpContext http, Action<ReadOnlyMemory<byte>> decode)
    {
        if (http.Request.ContentType != "application/x-protobuf")
        {
            Refused.Enqueue($"{http.Request.Path}: content type {http.Request.ContentType}");
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        using var body = new MemoryStream();
        await using (var input = http.Request.Headers.ContentEncoding == "gzip" ? new GZipStream(http.Request.Body, CompressionMode.Decompress) : http.Request.Body)
            await input.CopyToAsync(body);
        try
        {
            decode(body.GetBuffer().AsMemory(0, (int)body.Length));
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            Refused.Enqueue($"{http.Request.Path}: {e.Message}");
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/x-protobuf";
    }

    private static void Add<T>(ConcurrentQueue<T> into, IEnumerable<T> items)
    {
        foreach (var item in items.ToList()) into.Enqueue(item);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
