using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// What every Hugging Face architecture here offers the rest of the project (generation, a scalar-head
/// preference model, LoRA, PPO): hidden states and logits for left-padded batches, with the same
/// <see cref="KvCache"/> the project's own model uses. Its registered parameter names are the checkpoint's keys.
/// </summary>
public abstract class HfCausalLm : nn.Module
{
    protected HfCausalLm(string name, HfConfig config) : base(name) => Config = config;

    public HfConfig Config { get; }

    /// <summary>Last-layer hidden states [B, T, D] after the final norm.</summary>
    /// <param name="inputIds">[B, T] token ids (long).</param>
    /// <param name="attentionMask">[B, T], nonzero for real tokens (pads are on the left); with a cache, only the new tokens' entries.</param>
    public abstract Tensor HiddenStates(Tensor inputIds, Tensor attentionMask, KvCache? cache = null);

    /// <summary>Logits [B, T, V] of hidden states [B, T, D].</summary>
    public abstract Tensor LmHead(Tensor hidden);

    /// <summary>Next-token logits [B, T, V].</summary>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask, KvCache? cache = null) =>
        Scoped.Run(() => LmHead(HiddenStates(inputIds, attentionMask, cache)));

    /// <param name="capacity">tokens the cache makes room for up front (prompt plus new tokens), so that it need not grow.</param>
    public KvCache NewCache(long capacity = 0) => new(Config.Layers, capacity);

    /// <summary>
    /// The module key a checkpoint's tensor loads into, or null for a tensor the architecture knows to
    /// skip (old files' causal-mask buffers, a tied head).
    /// </summary>
    internal abstract string? ModuleKey(string fileKey);
}
