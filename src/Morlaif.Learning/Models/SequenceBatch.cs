using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>Token sequences padded into tensors: tokens [B, T] (long), valid [B, T] (bool), last real index [B].</summary>
public sealed record SequenceBatch(Tensor Tokens, Tensor Valid, Tensor LastIndex)
{
    /// <summary>Pads on the right: real tokens start at position 0 of every row.</summary>
    public static SequenceBatch RightPadded(IReadOnlyList<int[]> sequences, Device? device = null)
    {
        var t = sequences.Max(s => s.Length);
        var ids = new long[sequences.Count * t];
        var ok = new bool[sequences.Count * t];
        var last = new long[sequences.Count];
        for (var i = 0; i < sequences.Count; i++)
        {
            for (var j = 0; j < sequences[i].Length; j++)
            {
                ids[i * t + j] = sequences[i][j];
                ok[i * t + j] = true;
            }
            last[i] = sequences[i].Length - 1;
        }
        return Create(ids, ok, last, sequences.Count, t, device);
    }

    /// <summary>Pads on the left, so every row's next token goes in the same column (for sampling).</summary>
    public static SequenceBatch LeftPadded(IReadOnlyList<int[]> sequences, Device? device = null)
    {
        var t = sequences.Max(s => s.Length);
        var ids = new long[sequences.Count * t];
        var ok = new bool[sequences.Count * t];
        var last = new long[sequences.Count];
        for (var i = 0; i < sequences.Count; i++)
        {
            var offset = t - sequences[i].Length;
            for (var j = 0; j < sequences[i].Length; j++)
            {
                ids[i * t + offset + j] = sequences[i][j];
                ok[i * t + offset + j] = true;
            }
            last[i] = t - 1;
        }
        return Create(ids, ok, last, sequences.Count, t, device);
    }

    private static SequenceBatch Create(long[] ids, bool[] ok, long[] last, int b, int t, Device? device) =>
        new(tensor(ids, [b, t], device: device), tensor(ok, [b, t], device: device), tensor(last, device: device));
}
