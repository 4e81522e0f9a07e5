using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// Position ids and the attention mask of one forward step, from the attention mask and the cache, with
/// the conventions of <see cref="TransformerTrunk"/>: positions count real tokens only (a left-padded row
/// starts at 0, as Hugging Face's generate derives them from the mask), and the cache records the step.
/// </summary>
internal static class CausalContext
{
    /// <returns>positions [B, T] (long) and mask [B, 1, T, Tk] (bool, true where a query may see a key).</returns>
    public static (Tensor Positions, Tensor Mask) Begin(Tensor attentionMask, KvCache? cache)
    {
        var valid = attentionMask.to(ScalarType.Bool);
        var past = cache?.Length ?? 0;
        var counts = cumsum(valid.to(ScalarType.Int64), 1);
        var positions = cache?.NextPosition is { } next ? next.unsqueeze(1) + counts - 1 : (counts - 1).clamp_min(0);
        var keyValid = cache?.KeyValid is { } kv ? cat([kv, valid], 1) : valid;
        var mask = TransformerTrunk.AttentionMask(keyValid, past, valid.shape[1]);
        cache?.Advance(valid, positions);
        return (positions, mask);
    }
}
