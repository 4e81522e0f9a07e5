using Morlaif.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>GPT-2's trunk, registered as "transformer": token and learned position embeddings, the blocks, ln_f.</summary>
public sealed class Gpt2Model : Module
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;
    private readonly int _positions;

    public Gpt2Model(HfConfig config) : base(nameof(Gpt2Model))
    {
        wte = Embedding(config.VocabSize, config.HiddenSize, device: CPU);
        wpe = Embedding(config.MaxPositions, config.HiddenSize, device: CPU);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, config.Layers).Select(_ => new Gpt2Block(config)).ToArray());
        ln_f = LayerNorm(config.HiddenSize, config.NormEps, device: CPU);
        _positions = config.MaxPositions;
        RegisterComponents();
    }

    public Embedding Wte => wte;

    public IReadOnlyList<Gpt2Block> Blocks => [.. h];

    public Tensor Forward(Tensor inputIds, Tensor attentionMask, KvCache? cache) => Scoped.Run(() =>
    {
        var (x, mask) = Embed(inputIds, attentionMask, cache);
        return ln_f.forward(RunBlocks(x, mask, cache, 0, h.Count));
    });

    /// <inheritdoc cref="HfCausalLm.HiddenStatesAt"/>
    public LayerInput HiddenStatesAt(Tensor inputIds, Tensor attentionMask, int layer)
    {
        LayerInput.Check(layer, h.Count);
        using var scope = NewDisposeScope();
        var (x, mask) = Embed(inputIds, attentionMask, null);
        return new LayerInput(layer, RunBlocks(x, mask, null, 0, layer), mask).MoveToOuter(scope);
    }

    /// <inheritdoc cref="HfCausalLm.HiddenStatesFrom"/>
    public Tensor HiddenStatesFrom(LayerInput input) => Scoped.Run(() => ln_f.forward(RunBlocks(input.Hidden, input.Mask, null, input.Layer, h.Count)));

    /// <summary>The token and position embeddings and the attention mask of one step.</summary>
    private (Tensor X, Tensor Mask) Embed(Tensor inputIds, Tensor attentionMask, KvCache? cache)
    {
        var (positions, mask) = CausalContext.Begin(attentionMask, cache);
        // Positions count real tokens, so only a sequence wider than the table can run past it (checked only then:
        // reading the maximum synchronizes with the device).
        if ((cache?.Length ?? 0) + inputIds.shape[1] > _positions && positions.max().item<long>() >= _positions)
            throw new ArgumentException($"a sequence is longer than n_positions ({_positions}), GPT-2's learned position table", nameof(inputIds));
        return (wte.forward(inputIds) + wpe.forward(positions), mask);
    }

    /// <summary>Blocks [from, to) on the residual stream <paramref name="x"/>.</summary>
    private Tensor RunBlocks(Tensor x, Tensor mask, KvCache? cache, int from, int to)
    {
        for (var i = from; i < to; i++) x = h[i].Forward(x, mask, cache, i);
        return x;
    }
}

/// <summary>
/// GPT2LMHeadModel: "transformer" and "lm_head". When tied (GPT-2 always is, unless its config says
/// otherwise) the head is the token embedding itself and no lm_head parameter exists, so an optimizer
/// or LoRA sees the shared matrix once.
/// </summary>
public sealed class Gpt2LmHeadModel : HfCausalLm
{
    private readonly Gpt2Model transformer;
    private readonly Linear? lm_head;

    public Gpt2LmHeadModel(HfConfig config) : base(nameof(Gpt2LmHeadModel), config)
    {
        if (!config.IsGpt2) throw new ArgumentException($"not a gpt2 config: {config.Architecture}", nameof(config));
        transformer = new Gpt2Model(config);
        if (!config.TieWordEmbeddings) lm_head = Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: CPU);
        RegisterComponents();
    }

    public Gpt2Model Transformer => transformer;

    public override Tensor HiddenStates(Tensor inputIds, Tensor attentionMask, KvCache? cache = null) =>
        transformer.Forward(inputIds, attentionMask, cache);

    public override LayerInput HiddenStatesAt(Tensor inputIds, Tensor attentionMask, int layer) => transformer.HiddenStatesAt(inputIds, attentionMask, layer);

    public override Tensor HiddenStatesFrom(LayerInput input) => transformer.HiddenStatesFrom(input);

    public override Tensor LmHead(Tensor hidden) =>
        lm_head is null ? functional.linear(hidden, transformer.Wte.weight!) : lm_head.forward(hidden);

    internal override string? ModuleKey(string fileKey)
    {
        // Old files (the original gpt2 upload) carry the causal mask as buffers, which are not weights.
        if (fileKey.EndsWith(".attn.bias", StringComparison.Ordinal) || fileKey.EndsWith(".attn.masked_bias", StringComparison.Ordinal)) return null;
        if (fileKey == "lm_head.weight") return lm_head is null ? null : fileKey;
        // GPT2Model files (no head) name the trunk's tensors without the "transformer." prefix.
        return fileKey.StartsWith("transformer.", StringComparison.Ordinal) ? fileKey : "transformer." + fileKey;
    }
}
