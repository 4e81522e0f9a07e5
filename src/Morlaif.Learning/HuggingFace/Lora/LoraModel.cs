using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// Named LoRA adapters on one frozen <see cref="HfCausalLm"/>, at most one active at a time. The base's parameters
/// are frozen (requires_grad false) and shared by every adapter, so N adapters cost one base plus N small A/B sets;
/// with no adapter active (<see cref="AdaptersOff"/>) the model is exactly the base, which is what PPO's reference
/// policy needs, without a second copy. Projections are wrapped in <see cref="LoraLayer"/>s the first time an
/// adapter targets them; a wrapped projection without the active adapter computes the base alone.
/// </summary>
public sealed class LoraModel
{
    private readonly Dictionary<string, LoraLayer> _layers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LoraSettings> _adapters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _layerOf = new(StringComparer.Ordinal);

    public LoraModel(HfCausalLm model)
    {
        Model = model;
        foreach (var p in model.parameters()) p.requires_grad = false;
        // A model wrapped before (by another LoraModel over the same base) keeps its layers.
        foreach (var projection in LoraTargets.Projections(model))
        {
            _layerOf[projection.Path] = projection.Layer;
            if (projection.Module is LoraLayer layer) _layers[projection.Path] = layer;
        }
    }

    public HfCausalLm Model { get; }

    public HfConfig Config => Model.Config;

    public IReadOnlyDictionary<string, LoraSettings> Adapters => _adapters;

    /// <summary>The wrapped projections by module path.</summary>
    public IReadOnlyDictionary<string, LoraLayer> Layers => _layers;

    public string? Active { get; private set; }

    /// <summary>The merged adapter, if any.</summary>
    public string? Merged { get; private set; }

    /// <summary>Adds adapter <paramref name="name"/> on the projections <paramref name="settings"/> targets (not made active).</summary>
    public void AddAdapter(string name, LoraSettings settings, long seed = 0)
    {
        settings.Validate();
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("an adapter needs a name", nameof(name));
        if (_adapters.ContainsKey(name)) throw new ArgumentException($"adapter '{name}' exists already", nameof(name));
        if (settings.LayersToTransform?.FirstOrDefault(l => l >= Config.Layers) is { } beyond && beyond >= Config.Layers)
            throw new ArgumentException($"layers_to_transform names layer {beyond}, but the {Config.Architecture} model has {Config.Layers} layers (0 to {Config.Layers - 1})");
        var targets = LoraTargets.Projections(Model).Where(p => settings.Targets(Config, p.Path) && settings.Transforms(p.Layer)).ToList();
        if (targets.Count == 0)
            throw new ArgumentException($"target_modules [{string.Join(", ", settings.Targets(Config))}] match no projection of the {Config.Architecture} model");
        using var generator = new Generator((ulong)seed, CPU);
        foreach (var p in targets)
        {
            if (!_layers.TryGetValue(p.Path, out var layer))
            {
                layer = new LoraLayer(p.Module);
                p.Replace(layer);
                _layers[p.Path] = layer;
            }
            layer.Add(name, settings, generator);
        }
        _adapters[name] = settings;
    }

    public void RemoveAdapter(string name)
    {
        Require(name);
        if (Merged == name) throw new InvalidOperationException($"adapter '{name}' is merged; unmerge it first");
        foreach (var layer in _layers.Values) layer.Remove(name);
        _adapters.Remove(name);
        if (Active == name) Active = null;
    }

    /// <summary>Makes <paramref name="name"/> the adapter the forward pass applies; null for the base alone.</summary>
    public void SetActive(string? name)
    {
        if (name is not null) Require(name);
        if (Merged is not null && Merged != name)
            throw new InvalidOperationException($"adapter '{Merged}' is merged into the base weights; unmerge it before switching");
        foreach (var layer in _layers.Values) layer.Active = name is not null && layer.Adapters.ContainsKey(name) ? name : null;
        Active = name;
    }

    /// <summary>The base alone until disposed (PPO's reference policy), then the previously active adapter again.</summary>
    public IDisposable AdaptersOff()
    {
        var previous = Active;
        SetActive(null);
        return new Restore(() => SetActive(previous));
    }

    /// <summary>Adapter <paramref name="name"/>'s A and B by module path.</summary>
    public IReadOnlyList<(string Path, LoraPair Pair)> Pairs(string name)
    {
        Require(name);
        return _layers.Where(l => l.Value.Adapters.ContainsKey(name)).Select(l => (l.Key, l.Value.Adapters[name])).ToList();
    }

    /// <summary>
    /// The lowest decoder layer adapter <paramref name="name"/> changes: layers below it compute what the base computes
    /// with any adapter of the same or a higher first layer active, or none.
    /// </summary>
    public int FirstLayer(string name) => Pairs(name).Min(p => _layerOf[p.Path]);

    /// <summary>Adapter <paramref name="name"/>'s trainable tensors (every A and B), for an optimizer.</summary>
    public IReadOnlyList<Parameter> Parameters(string name) => Pairs(name).SelectMany(p => new[] { p.Pair.A, p.Pair.B }).ToList();

    /// <summary>Adds the active adapter into the base weights (inference at the base's cost); <see cref="Unmerge"/> takes it out.</summary>
    public void Merge()
    {
        if (Active is not { } name) throw new InvalidOperationException("no adapter is active to merge");
        if (Merged is not null) throw new InvalidOperationException($"adapter '{Merged}' is merged already");
        foreach (var layer in _layers.Values.Where(l => l.Adapters.ContainsKey(name))) layer.Merge(name);
        Merged = name;
    }

    /// <summary>
    /// Adds adapter <paramref name="name"/> into the base weights for good and removes it (PEFT's merge_and_unload): the
    /// SFT policy as the base of PPO's adapter, an exported policy as one plain model.
    /// </summary>
    public void MergeAndUnload(string name)
    {
        Require(name);
        if (Merged is not null) throw new InvalidOperationException($"adapter '{Merged}' is merged; unmerge it first");
        foreach (var layer in _layers.Values) layer.Bake(name);
        _adapters.Remove(name);
        if (Active == name) SetActive(null);
    }

    public void Unmerge()
    {
        foreach (var layer in _layers.Values) layer.Unmerge();
        Merged = null;
    }

    private void Require(string name)
    {
        if (!_adapters.ContainsKey(name)) throw new ArgumentException($"no adapter '{name}' (have: {string.Join(", ", _adapters.Keys)})", nameof(name));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose()
        {
            _action?.Invoke();
            _action = null;
        }
    }
}
