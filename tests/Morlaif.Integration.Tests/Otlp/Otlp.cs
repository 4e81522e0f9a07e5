using static Morlaif.Integration.Tests.Otlp.ProtoWire;

namespace Morlaif.Integration.Tests.Otlp;

/// <summary>A span as OTLP carries it: the service that sent it (its resource's service.name), its scope (the ActivitySource), ids in hex.</summary>
public sealed record OtlpSpan(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes);

public sealed record OtlpMetric(string Service, string Scope, string Name);

public sealed record OtlpLog(string Service, string TraceId, string SpanId, string Body);

/// <summary>
/// The three OTLP export requests, decoded by field number as opentelemetry-proto defines them (collector/*/v1 and
/// trace, metrics, logs, common and resource v1). Each request holds resource batches: Resource{attributes=1} at
/// field 1, scope batches at 2, each with InstrumentationScope{name=1} at 1 and its items at 2.
/// </summary>
public static class Otlp
{
    /// <summary>ExportTraceServiceRequest{resource_spans=1}; Span{trace_id=1, span_id=2, parent_span_id=4, name=5, attributes=9}.</summary>
    public static IEnumerable<OtlpSpan> Spans(ReadOnlyMemory<byte> request) =>
        from batch in Batches(request)
        from span in batch.Items
        let fields = Fields(span).ToList()
        select new OtlpSpan(batch.Service, batch.Scope, Hex(fields, 1), Hex(fields, 2), Hex(fields, 4), Text(fields, 5),
            Attributes(fields.Where(f => f.Number == 9).Select(f => f.Bytes)));

    /// <summary>ExportMetricsServiceRequest{resource_metrics=1}; Metric{name=1}.</summary>
    public static IEnumerable<OtlpMetric> Metrics(ReadOnlyMemory<byte> request) =>
        from batch in Batches(request)
        from metric in batch.Items
        select new OtlpMetric(batch.Service, batch.Scope, Text(Fields(metric).ToList(), 1));

    /// <summary>ExportLogsServiceRequest{resource_logs=1}; LogRecord{body=5 (AnyValue), trace_id=9, span_id=10}.</summary>
    public static IEnumerable<OtlpLog> Logs(ReadOnlyMemory<byte> request) =>
        from batch in Batches(request)
        from log in batch.Items
        let fields = Fields(log).ToList()
        select new OtlpLog(batch.Service, Hex(fields, 9), Hex(fields, 10), Value(One(log, 5)));

    private static IEnumerable<(string Service, string Scope, IEnumerable<ReadOnlyMemory<byte>> Items)> Batches(ReadOnlyMemory<byte> request) =>
        from resourceBatch in All(request, 1)
        let service = Attributes(All(One(resourceBatch, 1), 1)).GetValueOrDefault("service.name", "")
        from scopeBatch in All(resourceBatch, 2)
        select (service, Text(Fields(One(scopeBatch, 1)).ToList(), 1), All(scopeBatch, 2));

    /// <summary>KeyValue{key=1, value=2}.</summary>
    private static Dictionary<string, string> Attributes(IEnumerable<ReadOnlyMemory<byte>> keyValues) =>
        keyValues.Select(kv => (Key: Text(Fields(kv).ToList(), 1), Value: Value(One(kv, 2))))
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary>AnyValue{string_value=1, bool_value=2, int_value=3, double_value=4}, as text; arrays and maps are not read.</summary>
    private static string Value(ReadOnlyMemory<byte> anyValue)
    {
        foreach (var f in Fields(anyValue))
            switch (f.Number)
            {
                case 1: return f.String;
                case 2: return f.Integer != 0 ? "true" : "false";
                case 3: return ((long)f.Integer).ToString(System.Globalization.CultureInfo.InvariantCulture);
                case 4: return BitConverter.UInt64BitsToDouble(f.Integer).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        return "";
    }

    private static string Text(List<Field> fields, int number) => fields.LastOrDefault(f => f.Number == number && f.WireType == 2).String;

    private static string Hex(List<Field> fields, int number) => fields.LastOrDefault(f => f.Number == number && f.WireType == 2).Hex;
}
