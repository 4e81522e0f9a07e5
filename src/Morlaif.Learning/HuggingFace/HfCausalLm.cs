using Morlaif.Learning.Models;
using TorchSharp;
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

    /// <summary>
    /// The residual stream entering layer <paramref name="layer"/> (0 is the embeddings), for a forward pass without a
    /// cache that <see cref="HiddenStatesFrom"/> finishes: running the frozen layers below every preference model's
    /// adapter once and the adapted layers above once per principle gives each principle's hidden states at a fraction
    /// of a full pass per principle (<see cref="Lora.HfPreferenceModel.Score(IReadOnlyList{string}, IReadOnlyList{int[]}, int)"/>).
    /// </summary>
    public abstract LayerInput HiddenStatesAt(Tensor inputIds, Tensor attentionMask, int layer);

    /// <summary>Last-layer hidden states [B, T, D] after the final norm: layers [input.Layer, L) run on <paramref name="input"/>.</summary>
    public abstract Tensor HiddenStatesFrom(LayerInput input);

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

/// <summary>
/// The residual stream [B, T, D] entering layer <see cref="Layer"/> with what the remaining layers read besides it: the
/// attention mask [B, 1, T, T] and, for rotary models, the cos and sin of the positions. Owned by the caller's dispose scope.
/// </summary>
public sealed record LayerInput(int Layer, Tensor Hidden, Tensor Mask, Tensor? Cos = null, Tensor? Sin = null)
{
    /// <summary>Checks <paramref name="layer"/> against a model of <paramref name="layers"/> layers.</summary>
    internal static void Check(int layer, int layers)
    {
        if (layer < 0 || layer > layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is not in [0, {layers}]");
    }

    /// <summary>Moves the tensors out of the current dispose scope (see <see cref="Scoped"/>).</summary>
    internal LayerInput MoveToOuter(DisposeScope scope) =>
        new(Layer, scope.MoveToOuter(Hidden), scope.MoveToOuter(Mask), Cos is null ? null : scope.MoveToOuter(Cos), Sin is null ? null : scope.MoveToOuter(Sin));
}
