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

    /// <summary>Hidden states [B, T, D] for tokens [B, T] whose real (non-pad) entries are marked in valid [B, T].</summary>
    public Tensor Forward(Tensor tokens, Tensor valid, KvCache? cache = null)
    {
        var past = cache?.Length ?? 0;
        var t = tokens.shape[1];
        // Positions count real tokens only, so a left-padded prompt starts at position 0 like a right-padded one.
        var positions = cache?.NextPosition is { } next
            ? next.unsqueeze(1) + cumsum(valid.to(ScalarType.Int64), 1) - 1
            : (cumsum(valid.to(ScalarType.Int64), 1) - 1).clamp_min(0);
        positions = positions.clamp(0, Config.ContextLength - 1);
        var keyValid = cache?.KeyValid is { } kv ? cat([kv, valid], 1) : valid;
        var mask = AttentionMask(keyValid, past, t);
        cache?.Advance(valid, positions);

        var x = tok_emb.forward(tokens) + pos_emb.forward(positions);
        for (var i = 0; i < blocks.Count; i++) x = blocks[i].Forward(x, mask, cache, i);
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
