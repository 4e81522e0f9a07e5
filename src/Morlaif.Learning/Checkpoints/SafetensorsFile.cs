using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.Checkpoints;

/// <summary>
/// The project's one reader and writer of safetensors, for training checkpoints (<see cref="Checkpoint"/>), Hugging Face
/// model folders and PEFT adapters alike. The layout: the header's length (u64, little-endian), the header (JSON, padded
/// with spaces to a multiple of 8 bytes so the data that follows is aligned), then each tensor's raw bytes at its entry's
/// data_offsets, counted from the end of the header. The header maps each tensor name to its dtype, shape and offsets, and
/// "__metadata__" to a map of strings.
/// <para>
/// Opening parses only the header; each tensor's bytes then go from the stream straight into the tensor that receives
/// them, so a multi-gigabyte shard is never held twice. Every error starts with the source (a file's path, or "not a
/// MORLAIF policy checkpoint" for a blob), names the tensor at fault, and is built by the caller's <c>error</c>: a
/// damaged checkpoint blob is an InvalidDataException (its stage starts over), a user's model folder a ConfigException
/// (printed as one line).
/// </para>
/// TorchSharp.PyBridge reads and writes safetensors too, but only whole state_dicts (a second in-memory copy of every
/// weight, no tensor over 2 GB), without <c>__metadata__</c> and with errors that name neither file nor tensor; the
/// tests use it as an independent implementation to check ours against.
/// </summary>
internal sealed class SafetensorsFile : IDisposable
{
    private const string MetadataKey = "__metadata__";

    // Python's safetensors refuses headers over 100 MB; refusing them too keeps a corrupt length from allocating.
    private const long MaxHeaderBytes = 100 << 20;

    private static readonly (string Name, ScalarType Type, int Size)[] DTypes =
    [
        ("F64", ScalarType.Float64, 8), ("F32", ScalarType.Float32, 4), ("F16", ScalarType.Float16, 2), ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8), ("I32", ScalarType.Int32, 4), ("I16", ScalarType.Int16, 2), ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1), ("BOOL", ScalarType.Bool, 1),
    ];

    private static readonly ScalarType[] AllTypes = DTypes.Select(d => d.Type).ToArray();

    public sealed record Entry(string Name, ScalarType Type, long[] Shape, long Begin, long End);

    /// <summary>What every error starts with: the file's path, or what a blob is not.</summary>
    private readonly string _source;

    private readonly Stream _stream;
    private readonly long _dataStart;
    private readonly Func<string, Exception> _error;

    private SafetensorsFile(string source, Stream stream, long dataStart, Dictionary<string, Entry> entries,
        Dictionary<string, string> metadata, Func<string, Exception> error)
    {
        (_source, _stream, _dataStart, Entries, Metadata, _error) = (source, stream, dataStart, entries, metadata, error);
    }

    /// <summary>The tensors by name, in header order.</summary>
    public IReadOnlyDictionary<string, Entry> Entries { get; }

    /// <summary>The <c>__metadata__</c> entries whose values are strings (the format allows no others).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static int ElementSize(ScalarType t) => Of(t).Size;

    private static string DTypeName(ScalarType t) => Of(t).Name;

    private static (string Name, ScalarType Type, int Size) Of(ScalarType t)
    {
        foreach (var d in DTypes)
            if (d.Type == t) return d;
        throw new NotSupportedException($"no safetensors dtype for {t}");
    }

    /// <summary>Opens the file at <paramref name="path"/>; see <see cref="Open(Stream, string, Func{string, Exception}, IReadOnlyList{ScalarType}?, bool)"/>.</summary>
    public static SafetensorsFile Open(string path, Func<string, Exception> error, IReadOnlyList<ScalarType>? dtypes = null, bool dense = false)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"{path}: cannot be read ({e.Message})");
        }
        return Open(stream, path, error, dtypes, dense);
    }

    /// <summary>
    /// Parses the header of <paramref name="stream"/> (which the result then owns) and checks every entry: a known dtype
    /// among <paramref name="dtypes"/> (all by default), a byte count that fits its shape, data inside the stream. With
    /// <paramref name="dense"/> the tensors must also tile the data exactly, as Python's reader demands; Hugging Face
    /// folders are read without it, so a file with unused bytes (a header edited by hand) still loads.
    /// </summary>
    public static SafetensorsFile Open(Stream stream, string source, Func<string, Exception> error,
        IReadOnlyList<ScalarType>? dtypes = null, bool dense = false)
    {
        try
        {
            var header = ReadHeader(stream, source, error);
            var dataStart = stream.Position;
            var dataLength = stream.Length - dataStart;
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            foreach (var (name, node) in header)
                if (name != MetadataKey) entries[name] = ParseEntry(source, name, node, dtypes ?? AllTypes, error);
            if (dense) RequireDense(entries.Values, dataLength, source, error);
            foreach (var e in entries.Values)
                if (e.End > dataLength) throw error($"{source}: tensor '{e.Name}' ends past the end of the file");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (header[MetadataKey] is JsonObject m)
                foreach (var (key, value) in m)
                    if (value is JsonValue v && v.TryGetValue<string>(out var s)) metadata[key] = s;
            return new SafetensorsFile(source, stream, dataStart, entries, metadata, error);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static JsonObject ReadHeader(Stream stream, string source, Func<string, Exception> error)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (stream.Length < 8) throw error($"{source}: {stream.Length} bytes is too short for a safetensors file");
        stream.ReadExactly(prefix);
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length < 2 || length > MaxHeaderBytes || length > (ulong)stream.Length - 8)
            throw error($"{source}: not a safetensors file (header length {length} of {stream.Length} bytes)");
        var json = new byte[length];
        stream.ReadExactly(json);
        try
        {
            var header = JsonNode.Parse(json) as JsonObject ?? throw error($"{source}: the safetensors header is not a JSON object");
            _ = header.Count; // JsonObject reads its properties lazily: a duplicate name surfaces here
            return header;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw error($"{source}: the safetensors header is not JSON ({e.Message})");
        }
    }

    private static Entry ParseEntry(string source, string name, JsonNode? node, IReadOnlyList<ScalarType> dtypes, Func<string, Exception> error)
    {
        string dtype;
        long[] shape, offsets;
        try
        {
            dtype = node!["dtype"]!.GetValue<string>();
            shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw error($"{source}: tensor '{name}' has a malformed header entry");
        }
        var known = Array.FindIndex(DTypes, d => d.Name == dtype);
        if (known < 0 || !dtypes.Contains(DTypes[known].Type))
            throw error($"{source}: tensor '{name}' has dtype '{dtype}', which is not supported (supported: {string.Join(", ", dtypes.Select(DTypeName))})");
        if (shape.Any(d => d < 0) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw error($"{source}: tensor '{name}' has a bad shape or data_offsets");
        long bytes;
        try { bytes = checked(shape.Aggregate(1L, (n, d) => n * d) * DTypes[known].Size); }
        catch (OverflowException) { bytes = -1; }
        if (bytes != offsets[1] - offsets[0])
            throw error($"{source}: tensor '{name}' has {offsets[1] - offsets[0]} bytes for {dtype} [{string.Join(", ", shape)}]");
        return new Entry(name, DTypes[known].Type, shape, offsets[0], offsets[1]);
    }

    /// <summary>No gap, no overlap, nothing after the last tensor: what Python's safetensors checks of every file.</summary>
    private static void RequireDense(IEnumerable<Entry> entries, long dataLength, string source, Func<string, Exception> error)
    {
        long end = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != end) throw error($"{source}: tensor '{e.Name}' does not start where the previous one ends");
            end = e.End;
        }
        if (end != dataLength) throw error($"{source}: holds {dataLength} bytes of tensor data, its header describes {end}");
    }

    /// <summary>
    /// Copies tensor <paramref name="name"/> into <paramref name="target"/> (any device and dtype, converted as copy_
    /// converts). A contiguous CPU target of the file's dtype is filled in place, with no temporary.
    /// </summary>
    public void ReadInto(string name, Tensor target)
    {
        var e = Entries[name];
        if (!e.Shape.SequenceEqual(target.shape))
            throw _error($"{_source}: tensor '{name}' has shape [{string.Join(", ", e.Shape)}], the model expects [{string.Join(", ", target.shape)}]");
        _stream.Seek(_dataStart + e.Begin, SeekOrigin.Begin);
        using var _ = no_grad();
        if (target.device_type == DeviceType.CPU && target.dtype == e.Type && target.is_contiguous())
        {
            target.ReadBytesFromStream(_stream);
            return;
        }
        using var staging = empty(e.Shape, e.Type, device: CPU);
        staging.ReadBytesFromStream(_stream);
        target.copy_(staging);
    }

    /// <summary>Tensor <paramref name="name"/> as a new CPU tensor of the file's dtype.</summary>
    public Tensor Read(string name)
    {
        var e = Entries[name];
        var t = empty(e.Shape, e.Type, device: CPU);
        try
        {
            ReadInto(name, t);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> in their order, each in <paramref name="dtype"/> (by default its own), converted
    /// on the CPU and streamed one at a time, so writing needs at most one tensor's extra memory. The metadata starts with
    /// "format": "pt", which transformers' loader requires; <paramref name="metadata"/> follows.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Value)> tensors, ScalarType? dtype = null,
        IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var meta = new JsonObject { ["format"] = "pt" };
        foreach (var (key, value) in metadata ?? []) meta[key] = value;
        var header = new JsonObject { [MetadataKey] = meta };
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            if (header.ContainsKey(name)) throw new ArgumentException($"a safetensors file cannot hold two tensors named '{name}'", nameof(tensors));
            var type = dtype ?? t.dtype;
            var length = t.numel() * ElementSize(type);
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(type),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        using var _ = no_grad();
        foreach (var (_, t) in tensors)
        {
            using var scope = NewDisposeScope();
            t.detach().to(dtype ?? t.dtype).cpu().contiguous().WriteBytesToStream(stream);
        }
    }

    /// <summary>As the <see cref="Stream"/> overload, to a new file at <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Value)> tensors, ScalarType? dtype = null,
        IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(fs, tensors, dtype, metadata);
    }

    public void Dispose() => _stream.Dispose();
}
