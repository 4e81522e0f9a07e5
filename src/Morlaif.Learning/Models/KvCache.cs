using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, so that sampling feeds one new token per
/// step instead of the whole sequence. Also tracks which cached keys are real tokens (left padding is
/// not) and each row's next position.
/// </summary>
public sealed class KvCache
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
        _keys[layer] = _keys[layer] is { } pk ? cat([pk, k], 2) : k;
        _values[layer] = _values[layer] is { } pv ? cat([pv, v], 2) : v;
        return (_keys[layer]!, _values[layer]!);
    }

    internal void Advance(Tensor valid, Tensor positions)
    {
        KeyValid = KeyValid is { } kv ? cat([kv, valid], 1) : valid;
        NextPosition = positions[.., -1] + 1;
    }
}
