using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// One safetensors file opened for reading tensor by tensor: only its header is parsed up front, and
/// each tensor's bytes go straight from the file into the parameter that receives them, so loading
/// never holds a second full copy of the weights. (<see cref="Checkpoints.Checkpoint"/> reads whole
/// in-memory blobs, which suits the pipeline's small artifacts, not multi-gigabyte checkpoints.)
/// </summary>
internal sealed class SafetensorsFile : IDisposable
{
    // A real header is a few MB at most (one entry per tensor); refuse a corrupt length before allocating.
    private const long MaxHeaderBytes = 100 << 20;

    private readonly FileStream _stream;
    private readonly long _dataStart;

    public sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private SafetensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, Entry> entries)
    {
        (Path, _stream, _dataStart, Entries) = (path, stream, dataStart, entries);
    }

    /// <summary>The file's path, which every error names.</summary>
    public string Path { get; }

    public IReadOnlyDictionary<string, Entry> Entries { get; }

    public static SafetensorsFile Open(string path)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot be read ({e.Message})");
        }
        try
        {
            Span<byte> size = stackalloc byte[8];
            if (stream.Length < 8 || stream.Read(size) != 8) throw new ConfigException($"{path}: too short for a safetensors file");
            var length = BinaryPrimitives.ReadUInt64LittleEndian(size);
            if (length < 2 || length > MaxHeaderBytes || (long)length > stream.Length - 8)
                throw new ConfigException($"{path}: not a safetensors file (header length {length} of {stream.Length} bytes)");
            var json = new byte[length];
            stream.ReadExactly(json);
            JsonObject header;
            try { header = JsonNode.Parse(json) as JsonObject ?? throw new ConfigException($"{path}: the safetensors header is not a JSON object"); }
            catch (JsonException e) { throw new ConfigException($"{path}: the safetensors header is not JSON ({e.Message})"); }
            var dataStart = 8 + (long)length;
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__") continue;
                var e = ParseEntry(path, name, node);
                if (dataStart + e.End > stream.Length) throw new ConfigException($"{path}: tensor '{name}' ends past the end of the file");
                entries[name] = e;
            }
            return new SafetensorsFile(path, stream, dataStart, entries);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static Entry ParseEntry(string path, string name, JsonNode? node)
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
            throw new ConfigException($"{path}: tensor '{name}' has a malformed header entry");
        }
        if (ScalarTypeOf(dtype) is not { } type)
            throw new ConfigException($"{path}: tensor '{name}' has dtype '{dtype}', which is not supported (supported: F32, F16, BF16)");
        if (shape.Any(d => d < 0) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw new ConfigException($"{path}: tensor '{name}' has a bad shape or data_offsets");
        var bytes = shape.Aggregate(1L, (n, d) => n * d) * ElementSize(type);
        if (bytes != offsets[1] - offsets[0])
            throw new ConfigException($"{path}: tensor '{name}' has {offsets[1] - offsets[0]} bytes for {dtype} [{string.Join(", ", shape)}]");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /// <summary>The floating-point dtypes Hugging Face language models are stored in.</summary>
    internal static ScalarType? ScalarTypeOf(string dtype) => dtype switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        _ => null,
    };

    internal static long ElementSize(ScalarType t) => t == ScalarType.Float32 ? 4 : 2;

    /// <summary>
    /// Copies tensor <paramref name="name"/> into <paramref name="target"/> (any device and floating dtype;
    /// converted as copy_ converts). A CPU target of the file's dtype is filled in place, with no temporary.
    /// </summary>
    public void ReadInto(string name, Tensor target, string shownKey)
    {
        var e = Entries[name];
        if (!e.Shape.SequenceEqual(target.shape))
            throw new ConfigException($"{Path}: tensor '{shownKey}' has shape [{string.Join(", ", e.Shape)}], the model expects [{string.Join(", ", target.shape)}]");
        var type = ScalarTypeOf(e.DType)!.Value;
        _stream.Seek(_dataStart + e.Begin, SeekOrigin.Begin);
        using var _ = no_grad();
        if (target.device_type == DeviceType.CPU && target.dtype == type && target.is_contiguous())
        {
            target.ReadBytesFromStream(_stream);
            return;
        }
        using var staging = empty(e.Shape, type, device: CPU);
        staging.ReadBytesFromStream(_stream);
        target.copy_(staging);
    }

    public void Dispose() => _stream.Dispose();
}
