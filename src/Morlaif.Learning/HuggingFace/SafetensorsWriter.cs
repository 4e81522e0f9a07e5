using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Morlaif.Learning.Checkpoints;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// Writes tensors to a safetensors file one at a time (each converted to <c>dtype</c> on the CPU, then
/// streamed to disk), so saving a large model needs at most one tensor's extra memory.
/// </summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Value)> tensors, ScalarType dtype)
    {
        // "format": "pt" is what transformers' loader requires of a safetensors checkpoint's metadata.
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        var size = SafetensorsFile.ElementSize(dtype);
        foreach (var (name, t) in tensors)
        {
            var length = t.numel() * size;
            header[name] = new JsonObject
            {
                ["dtype"] = Checkpoint.DType(dtype),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> sizeBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(sizeBytes, (ulong)padded);
        fs.Write(sizeBytes);
        fs.Write(json);
        for (var i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
        using var _ = no_grad();
        foreach (var (_, t) in tensors)
        {
            using var scope = NewDisposeScope();
            t.detach().to(dtype).cpu().contiguous().WriteBytesToStream(fs);
        }
    }
}
