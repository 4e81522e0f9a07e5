using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Where the real tokens of a right- or left-padded batch [B, T] are, so that the layers that act on each token alone
/// (embeddings, norms, projections, MLPs, heads) run on the real tokens only, [N, D], and only attention sees the padded
/// layout. The world's pairs, demonstrations and rollouts are padded to about twice their mean length, so this halves
/// most of the work of a forward and backward pass without changing what is computed for any real token.
/// </summary>
public sealed class Unpadded
{
    private Unpadded(Tensor real, long batch, long length) => (Real, Batch, Length) = (real, batch, length);

    /// <summary>[N] the flat indices (row * T + column) of the real tokens, in order.</summary>
    public Tensor Real { get; }

    public long Batch { get; }

    public long Length { get; }

    /// <summary>The layout of <paramref name="valid"/> [B, T]; null when nothing is padding, so callers keep the plain path.</summary>
    public static Unpadded? Of(Tensor valid)
    {
        var real = valid.reshape(-1).nonzero().squeeze(1);
        if (real.shape[0] == valid.numel())
        {
            real.Dispose();
            return null;
        }
        return new Unpadded(real, valid.shape[0], valid.shape[1]);
    }

    /// <summary>[B, T, ...] to the real tokens' rows [N, ...].</summary>
    public Tensor Pack(Tensor padded) => padded.reshape([Batch * Length, .. padded.shape[2..]]).index_select(0, Real);

    /// <summary>[N, ...] back to [B, T, ...], zeros at the padding.</summary>
    public Tensor Unpack(Tensor packed)
    {
        long[] rest = packed.shape[1..];
        return zeros([Batch * Length, .. rest], packed.dtype, packed.device).index_copy(0, Real, packed).view([Batch, Length, .. rest]);
    }
}
