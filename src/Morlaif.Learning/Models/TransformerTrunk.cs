using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>
/// Token and position embeddings, the blocks and the final norm: everything but the head. The policy
/// and the preference models share this trunk's shape, so a PM starts from the SFT policy's weights.
/// </summary>
public sealed class TransformerTrunk : Module
{
    private readonly Embedding tok_emb;
    private readonly Embedding pos_emb;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm ln_f;

    public TransformerConfig Config { get; }

    /// <remarks>
    /// Every model here is built on the CPU, whatever torch's default device, and moved with <c>.to(device)</c>
    /// once built (the TorchSharp convention; <see cref="Initialization"/> draws on the CPU too).
    /// </remarks>
    public TransformerTrunk(TransformerConfig config) : base(nameof(TransformerTrunk))
    {
        Config = config;
        tok_emb = Embedding(config.VocabSize, config.DModel, device: CPU);
        pos_emb = Embedding(config.ContextLength, config.DModel, device: CPU);
        blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(config)).ToArray());
        ln_f = LayerNorm(config.DModel, device: CPU);
        RegisterComponents();
    }

    /// <summary>Hidden states [B, T, D] for tokens [B, T] whose real (non-pad) entries are marked in valid [B, T] (zeros at the padding).</summary>
    public Tensor Forward(Tensor tokens, Tensor valid, KvCache? cache = null)
    {
        if (cache is not null) return Decode(tokens, valid, cache);
        var (h, unpadded) = Hidden(tokens, valid);
        return unpadded?.Unpack(h) ?? h;
    }

    /// <summary>
    /// The hidden states of the real tokens only, [N, D], with where they sit (<see cref="Unpadded"/>); [B, T, D] and null
    /// when nothing is padding. A head applied to these skips the padding too.
    /// </summary>
    public (Tensor Hidden, Unpadded? Layout) Hidden(Tensor tokens, Tensor valid)
    {
        // Positions count real tokens only, so a left-padded prompt starts at position 0 like a right-padded one.
        var positions = (cumsum(valid.to(ScalarType.Int64), 1) - 1).clamp(0, Config.ContextLength - 1);
        var mask = AttentionMask(valid, 0, tokens.shape[1]);
        var unpadded = Unpadded.Of(valid);
        if (unpadded is null) return (Blocks(tok_emb.forward(tokens) + pos_emb.forward(positions), mask, null, null), null);
        var x = tok_emb.forward(unpadded.Pack(tokens)) + pos_emb.forward(unpadded.Pack(positions));
        return (Blocks(x, mask, null, unpadded), unpadded);
    }

    /// <summary>New tokens [B, t] after those in <paramref name="cache"/>, which they join.</summary>
    private Tensor Decode(Tensor tokens, Tensor valid, KvCache cache)
    {
        var past = cache.Length;
        var positions = cache.NextPosition is { } next
            ? next.unsqueeze(1) + cumsum(valid.to(ScalarType.Int64), 1) - 1
            : (cumsum(valid.to(ScalarType.Int64), 1) - 1).clamp_min(0);
        positions = positions.clamp(0, Config.ContextLength - 1);
        var keyValid = cache.KeyValid is { } kv ? cat([kv, valid], 1) : valid;
        var mask = AttentionMask(keyValid, past, tokens.shape[1]);
        cache.Advance(valid, positions);
        return Blocks(tok_emb.forward(tokens) + pos_emb.forward(positions), mask, cache, null);
    }

    private Tensor Blocks(Tensor x, Tensor mask, KvCache? cache, Unpadded? unpadded)
    {
        for (var i = 0; i < blocks.Count; i++) x = unpadded is null ? blocks[i].Forward(x, mask, cache, i) : blocks[i].Forward(x, mask, unpadded);
        return ln_f.forward(x);
    }

    /// <summary>
    /// [B, 1, T, Tk]: causal, real keys only. Every query may also see itself, so a pad query still has
    /// one key to attend to and its (ignored) output is not NaN.
    /// </summary>
    internal static Tensor AttentionMask(Tensor keyValid, long past, long t)
    {
        var tk = keyValid.shape[1];
        var device = keyValid.device;
        var queryIndex = arange(past, past + t, ScalarType.Int64, device).unsqueeze(1);
        var keyIndex = arange(tk, ScalarType.Int64, device).unsqueeze(0);
        var causal = keyIndex.le(queryIndex).unsqueeze(0) & keyValid.unsqueeze(1);
        return (causal | keyIndex.eq(queryIndex).unsqueeze(0)).unsqueeze(1);
    }
}
