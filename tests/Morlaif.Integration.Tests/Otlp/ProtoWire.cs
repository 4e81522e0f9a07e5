namespace Morlaif.Integration.Tests.Otlp;

/// <summary>
/// Protocol Buffers' wire format, as much as reading OTLP needs: a message is a run of fields, each a key (field
/// number &lt;&lt; 3 | wire type, a varint) and a value: a varint (0), 8 bytes (1), a length and that many bytes (2: a
/// string, bytes, a nested message or a packed array), or 4 bytes (5). Fields a reader does not ask for are skipped,
/// as any protobuf reader skips fields it does not know.
/// </summary>
public static class ProtoWire
{
    /// <summary>One field: its number, and its value as an integer (wire types 0, 1, 5) or as bytes (2).</summary>
    public readonly record struct Field(int Number, int WireType, ulong Integer, ReadOnlyMemory<byte> Bytes)
    {
        public string String => System.Text.Encoding.UTF8.GetString(Bytes.Span);

        public string Hex => Convert.ToHexStringLower(Bytes.Span);
    }

    public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var key = Varint(message.Span, ref at);
            var (number, type) = ((int)(key >> 3), (int)(key & 7));
            switch (type)
            {
                case 0:
                    yield return new Field(number, type, Varint(message.Span, ref at), default);
                    break;
                case 1:
                    yield return new Field(number, type, BitConverter.ToUInt64(message.Span.Slice(at, 8)), default);
                    at += 8;
                    break;
                case 2:
                    var length = checked((int)Varint(message.Span, ref at));
                    yield return new Field(number, type, 0, message.Slice(at, length));
                    at += length;
                    break;
                case 5:
                    yield return new Field(number, type, BitConverter.ToUInt32(message.Span.Slice(at, 4)), default);
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {type} (field {number}) at byte {at}: not a protobuf message, or groups, which OTLP does not use");
            }
        }
    }

    /// <summary>The length-delimited fields numbered <paramref name="number"/>: a repeated or nested message, a string.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> All(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.WireType == 2).Select(f => f.Bytes);

    public static ReadOnlyMemory<byte> One(ReadOnlyMemory<byte> message, int number) => All(message, number).LastOrDefault();

    private static ulong Varint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("a varint longer than 10 bytes");
    }
}
