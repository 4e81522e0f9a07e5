using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// Rollouts (bos prompt sep response) as tensors: tokens and valid [B, T] right-padded, the actions tokens[:, 1:]
/// [B, T-1] (what each position chose next), the mask of the response's actions over them, and each row's last
/// response action (where the sequence's score is paid).
/// </summary>
internal sealed record RolloutBatch(Tensor Tokens, Tensor Valid, Tensor Actions, Tensor Mask, Tensor LastAction)
{
    public static RolloutBatch Create(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> sequences, Device device)
    {
        var padded = SequenceBatch.RightPadded(sequences, device);
        var actions = padded.Tokens[.., 1..];
        var position = arange(actions.shape[1], device: device).unsqueeze(0);
        // Position j chose token j + 1, so the response's first token was chosen at the prompt's last position.
        var first = tensor(prompts.Select(p => (long)p.Length - 1).ToArray(), device: device).unsqueeze(1);
        var last = padded.LastIndex - 1;
        var mask = ((position >= first) & (position <= last.unsqueeze(1))).to(ScalarType.Float32);
        return new(padded.Tokens, padded.Valid, actions, mask, last);
    }

    public int Size => (int)Tokens.shape[0];

    /// <summary>The rows <paramref name="index"/>, for a minibatch: tokens, valid, actions and mask.</summary>
    public RolloutBatch Rows(Tensor index) =>
        new(Tokens.index_select(0, index), Valid.index_select(0, index), Actions.index_select(0, index), Mask.index_select(0, index), LastAction.index_select(0, index));
}
