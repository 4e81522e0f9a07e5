using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, so that sampling feeds one new token per
/// step instead of the whole sequence. Also tracks which cached keys are real tokens (left padding is
/// not) and each row's next position. The cache owns its tensors, outside any dispose scope, so a caller
/// may free each step's other intermediates with a scope of its own. Dispose the cache when done.
/// </summary>
/// <remarks>
/// Each layer's keys and values live in a buffer with room for <c>capacity</c> tokens, written in place
/// step by step: growing by concatenation instead copies the whole cache every step, which at PPO's
/// batch of 64 was a fifth of a decode step. A buffer that runs out of room doubles. Writing in place
/// means no backward pass through a cached forward (autograd would see its saved keys overwritten): the
/// cache is for generation, under no_grad.
/// </remarks>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;
    private readonly long _capacity;

    /// <param name="capacity">tokens to make room for at once (prompt plus new tokens); more still fit, by doubling.</param>
    public KvCache(int layers, long capacity = 0)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _capacity = capacity;
    }

    /// <summary>[B, Tk] true where the cached key is a real token.</summary>
    public Tensor? KeyValid { get; private set; }

    /// <summary>[B] position of the next token of each row.</summary>
    public Tensor? NextPosition { get; private set; }

    public long Length => KeyValid?.shape[1] ?? 0;

    /// <summary>
    /// Writes the step's keys and values [B, H, t, D] after the cached ones and returns all of them (views of
    /// the buffers). The step has already been recorded by <see cref="Advance"/>, so they go at columns Length - t onward.
    /// </summary>
    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var end = Length;
        return (Write(ref _keys[layer], k, end), Write(ref _values[layer], v, end));
    }

    internal void Advance(Tensor valid, Tensor positions)
    {
        var grown = (KeyValid is null ? valid.alias() : cat([KeyValid, valid], 1)).DetachFromDisposeScope();
        KeyValid?.Dispose();
        KeyValid = grown;
        NextPosition?.Dispose();
        NextPosition = (positions[.., -1] + 1).DetachFromDisposeScope();
    }

    /// <summary>
    /// Keeps only the rows <paramref name="rows"/> [A] of every cached tensor, in that order: a generation loop drops the
    /// rows that have finished, so later steps compute only the rows still running.
    /// </summary>
    internal void Keep(Tensor rows)
    {
        for (var layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer] = Select(_keys[layer], rows);
            _values[layer] = Select(_values[layer], rows);
        }
        KeyValid = Select(KeyValid, rows);
        NextPosition = Select(NextPosition, rows);
    }

    private static Tensor? Select(Tensor? old, Tensor rows)
    {
        if (old is null) return null;
        var kept = old.index_select(0, rows).DetachFromDisposeScope();
        old.Dispose();
        return kept;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values).Append(KeyValid).Append(NextPosition)) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        (KeyValid, NextPosition) = (null, null);
    }

    private Tensor Write(ref Tensor? buffer, Tensor added, long end)
    {
        var (t, start) = (added.shape[2], end - added.shape[2]);
        if (buffer is null || buffer.shape[2] < end)
        {
            var room = Math.Max(end, Math.Max(_capacity, 2 * (buffer?.shape[2] ?? 0)));
            var larger = empty([added.shape[0], added.shape[1], room, added.shape[3]], added.dtype, added.device).DetachFromDisposeScope();
            if (buffer is not null)
            {
                using var kept = larger.narrow(2, 0, start);
                kept.copy_(buffer.narrow(2, 0, start));
                buffer.Dispose();
            }
            buffer = larger;
        }
        using (var columns = buffer.narrow(2, start, t)) columns.copy_(added);
        return buffer.narrow(2, 0, end);
    }
}
