using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, so that sampling feeds one new token per
/// step instead of the whole sequence. Also tracks which cached keys are real tokens (left padding is
/// not) and each row's next position. The cache owns its tensors, outside any dispose scope: each step's
/// append frees the previous, shorter copy (else a generation loop keeps every step's copy, O(steps²) memory),
/// and a caller may free each step's other intermediates with a scope of its own. Dispose the cache when done.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>[B, Tk] true where the cached key is a real token.</summary>
    public Tensor? KeyValid { get; private set; }

    /// <summary>[B] position of the next token of each row.</summary>
    public Tensor? NextPosition { get; private set; }

    public long Length => KeyValid?.shape[1] ?? 0;

    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        _keys[layer] = Grow(_keys[layer], k, 2);
        _values[layer] = Grow(_values[layer], v, 2);
        return (_keys[layer]!, _values[layer]!);
    }

    internal void Advance(Tensor valid, Tensor positions)
    {
        KeyValid = Grow(KeyValid, valid, 1);
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

    /// <summary>
    /// <paramref name="old"/> with <paramref name="added"/> appended along <paramref name="dim"/>, owned by the cache.
    /// Freeing the old handle is safe under autograd: the graph keeps its own reference to what it saved.
    /// </summary>
    private static Tensor Grow(Tensor? old, Tensor added, int dim)
    {
        var grown = (old is null ? added.alias() : cat([old, added], dim)).DetachFromDisposeScope();
        old?.Dispose();
        return grown;
    }
}
