namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// One LoRA adapter's hyperparameters, with PEFT's meaning: rank r, scaling lora_alpha / r, dropout on the
/// adapter's input, and the target modules, matched as PEFT matches a list (a module path equal to a name or
/// ending in "." + name), on the layers of <see cref="LayersToTransform"/> (PEFT's layers_to_transform: the decoder
/// layers' indices, null for all). The defaults, r = 8 and alpha = 32 on every layer, are the paper's.
/// </summary>
public sealed record LoraSettings(int Rank = 8, double Alpha = 32, double Dropout = 0, IReadOnlyList<string>? TargetModules = null,
    IReadOnlyList<int>? LayersToTransform = null)
{
    /// <summary>Every projection of the attention and the MLP, by its Hugging Face name.</summary>
    public static IReadOnlyList<string> DefaultTargets(HfConfig config) => config.IsGpt2
        ? ["c_attn", "c_proj", "c_fc"]
        : ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public double Scaling => Alpha / Rank;

    /// <summary>The target modules, or the architecture's defaults when none were given.</summary>
    public IReadOnlyList<string> Targets(HfConfig config) => TargetModules ?? DefaultTargets(config);

    /// <summary>Whether module <paramref name="path"/> is a target (PEFT's rule for a list of names).</summary>
    public bool Targets(HfConfig config, string path) =>
        Targets(config).Any(t => path == t || path.EndsWith("." + t, StringComparison.Ordinal));

    /// <summary>Whether the adapter transforms decoder layer <paramref name="layer"/>.</summary>
    public bool Transforms(int layer) => LayersToTransform is null || LayersToTransform.Contains(layer);

    /// <summary>
    /// These settings on the top <paramref name="topLayers"/> of a model's <paramref name="layers"/> layers only (all of
    /// them when null): the layers below are the frozen base's, the same for every adapter so adapted, and so computed
    /// once for all of them (<see cref="HfPreferenceModel.Score(IReadOnlyList{string}, IReadOnlyList{int[]}, int)"/>).
    /// </summary>
    public LoraSettings OnTopLayers(int? topLayers, int layers)
    {
        if (topLayers is not { } k) return this;
        if (k <= 0 || k > layers) throw new ArgumentException($"the top {k} layers of a {layers}-layer model: must be 1 to {layers}", nameof(topLayers));
        return this with { LayersToTransform = [.. Enumerable.Range(layers - k, k)] };
    }

    public void Validate()
    {
        if (Rank <= 0) throw new ArgumentException($"LoRA rank r must be positive, not {Rank}");
        if (!(Alpha > 0)) throw new ArgumentException($"lora_alpha must be positive, not {Alpha}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"lora_dropout must be in [0, 1), not {Dropout}");
        if (TargetModules is { Count: 0 }) throw new ArgumentException("target_modules is empty");
        if (LayersToTransform is { Count: 0 }) throw new ArgumentException("layers_to_transform is empty");
        if (LayersToTransform?.FirstOrDefault(l => l < 0) is < 0 and var negative) throw new ArgumentException($"layers_to_transform has a negative layer, {negative}");
    }
}
