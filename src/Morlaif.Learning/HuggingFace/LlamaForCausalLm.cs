using Morlaif.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>The Llama-family trunk, registered as "model": embed_tokens, the layers, the final norm.</summary>
public sealed class LlamaModel : Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly RotaryEmbedding _rotary;
    private readonly int? _slidingWindow;

    public LlamaModel(HfConfig config) : base(nameof(LlamaModel))
    {
        embed_tokens = Embedding(config.VocabSize, config.HiddenSize, device: CPU);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, config.Layers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps);
        _rotary = new RotaryEmbedding(config);
        _slidingWindow = config.SlidingWindow;
        RegisterComponents();
    }

    public Embedding EmbedTokens => embed_tokens;

    public IReadOnlyList<LlamaDecoderLayer> Layers => [.. layers];

    public Tensor Forward(Tensor inputIds, Tensor attentionMask, KvCache? cache) => Scoped.Run(() =>
    {
        var (x, mask, cos, sin) = Embed(inputIds, attentionMask, cache);
        return norm.forward(RunLayers(x, cos, sin, mask, cache, 0, layers.Count));
    });

    /// <inheritdoc cref="HfCausalLm.HiddenStatesAt"/>
    public LayerInput HiddenStatesAt(Tensor inputIds, Tensor attentionMask, int layer)
    {
        LayerInput.Check(layer, layers.Count);
        using var scope = NewDisposeScope();
        var (x, mask, cos, sin) = Embed(inputIds, attentionMask, null);
        return new LayerInput(layer, RunLayers(x, cos, sin, mask, null, 0, layer), mask, cos, sin).MoveToOuter(scope);
    }

    /// <inheritdoc cref="HfCausalLm.HiddenStatesFrom"/>
    public Tensor HiddenStatesFrom(LayerInput input) =>
        Scoped.Run(() => norm.forward(RunLayers(input.Hidden, input.Cos!, input.Sin!, input.Mask, null, input.Layer, layers.Count)));

    /// <summary>The token embeddings, the attention mask and the rotary cos and sin of one step.</summary>
    private (Tensor X, Tensor Mask, Tensor Cos, Tensor Sin) Embed(Tensor inputIds, Tensor attentionMask, KvCache? cache)
    {
        // Mistral's sliding window changes nothing until a sequence is longer than it; beyond, we would be wrong, so refuse.
        if (_slidingWindow is { } w && (cache?.Length ?? 0) + inputIds.shape[1] > w)
            throw new NotSupportedException($"sequences longer than sliding_window ({w}) are not supported");
        var (positions, mask) = CausalContext.Begin(attentionMask, cache);
        var x = embed_tokens.forward(inputIds);
        var (cos, sin) = _rotary.CosSin(positions, x.dtype);
        return (x, mask, cos, sin);
    }

    /// <summary>Decoder layers [from, to) on the residual stream <paramref name="x"/>.</summary>
    private Tensor RunLayers(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int from, int to)
    {
        for (var i = from; i < to; i++) x = layers[i].Forward(x, cos, sin, mask, cache, i);
        return x;
    }
}

/// <summary>
/// LlamaForCausalLM (also Mistral's and Qwen2's): "model" and "lm_head". Tied models (Llama 3.2 1B,
/// Qwen2.5 0.5B) use embed_tokens as the head and have no lm_head parameter.
/// </summary>
public sealed class LlamaForCausalLm : HfCausalLm
{
    private readonly LlamaModel model;
    private readonly Linear? lm_head;

    public LlamaForCausalLm(HfConfig config) : base(nameof(LlamaForCausalLm), config)
    {
        if (config.IsGpt2) throw new ArgumentException("a gpt2 config is not a Llama-family config", nameof(config));
        model = new LlamaModel(config);
        if (!config.TieWordEmbeddings) lm_head = Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: CPU);
        RegisterComponents();
    }

    public LlamaModel Model => model;

    public override Tensor HiddenStates(Tensor inputIds, Tensor attentionMask, KvCache? cache = null) =>
        model.Forward(inputIds, attentionMask, cache);

    public override LayerInput HiddenStatesAt(Tensor inputIds, Tensor attentionMask, int layer) => model.HiddenStatesAt(inputIds, attentionMask, layer);

    public override Tensor HiddenStatesFrom(LayerInput input) => model.HiddenStatesFrom(input);

    public override Tensor LmHead(Tensor hidden) =>
        lm_head is null ? functional.linear(hidden, model.EmbedTokens.weight!) : lm_head.forward(hidden);

    internal override string? ModuleKey(string fileKey)
    {
        // Older conversions stored the rotary frequencies as a buffer; they are recomputed from the config.
        if (fileKey.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        if (fileKey == "lm_head.weight" && lm_head is null) return null;
        return fileKey;
    }
}
