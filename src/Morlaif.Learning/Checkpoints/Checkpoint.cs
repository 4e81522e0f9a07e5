using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.Checkpoints;

/// <summary>
/// The one format of every model artifact and checkpoint: a safetensors file. Its tensors are named by
/// the module's state_dict keys ("trunk.blocks.0.attn.qkv.weight"), AdamW's per-parameter state is
/// stored beside them as "optimizer.state.&lt;parameter&gt;.exp_avg", ".exp_avg_sq" and ".step", and
/// everything that is not a tensor (kind, version, iteration, statistics, optimizer settings) is one
/// JSON document in the header's <c>__metadata__</c> under the key "morlaif".
/// The document lives inside the safetensors header rather than in a second file because the pipeline
/// stores every artifact as one immutable, content-addressed blob: one file, one hash, no pair of blobs
/// that could be half written. A PyTorch user reads it with
/// <c>safetensors.safe_open(path, "pt")</c>: <c>.keys()</c>, <c>.get_tensor(k)</c>, and
/// <c>json.loads(.metadata()["morlaif"])</c>. The safetensors layout itself is <see cref="SafetensorsFile"/>'s, shared with
/// the Hugging Face folders.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string Format = "morlaif-checkpoint";
    public const int Version = 1;

    /// <summary>The key of the JSON document in the safetensors <c>__metadata__</c> (a map of strings).</summary>
    public const string MetadataKey = "morlaif";

    public const string OptimizerPrefix = "optimizer.state.";

    private static readonly JsonSerializerOptions DocumentJson = new(RunConfig.Json) { WriteIndented = false };

    private readonly SortedDictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    public Checkpoint(string kind) => Kind = kind;

    /// <summary>What the checkpoint holds ("policy", "preference-model", "pm-trainer", "ppo-learner"): a reader names the kind it expects.</summary>
    public string Kind { get; }

    /// <summary>The kind's own fields (iteration, statistics, ...), as JSON.</summary>
    public JsonNode? State { get; set; }

    /// <summary>The optimizer's settings per parameter group, when the checkpoint holds an optimizer.</summary>
    public OptimizerSettings? Optimizer { get; private set; }

    /// <summary>CPU tensors by name, in name order (the order they are written in).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>Adds a detached CPU copy of <paramref name="value"/>.</summary>
    public void Add(string name, Tensor value)
    {
        if (_tensors.ContainsKey(name)) throw new ArgumentException($"checkpoint already has a tensor '{name}'", nameof(name));
        // The scope disposes the intermediate wrappers; the copy outlives it and any scope of the caller's.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _tensors[name] = value.detach().cpu().contiguous().clone().DetachFromDisposeScope();
    }

    public void SetState<T>(T state) => State = JsonSerializer.SerializeToNode(state, DocumentJson);

    public T GetState<T>() where T : class
    {
        try
        {
            return State?.Deserialize<T>(DocumentJson) ?? throw new InvalidDataException($"{Kind} checkpoint has no state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Kind} checkpoint state is not readable: {e.Message}", e);
        }
    }

    /// <summary>Every entry of the module's state_dict, under its own name.</summary>
    public void AddModule(nn.Module module) => AddTensors(module.state_dict());

    /// <summary>Named tensors that are not one module's state_dict (a LoRA adapter's A and B beside a value head).</summary>
    public void AddTensors(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, value) in tensors) Add(name, value);
    }

    /// <summary>
    /// Copies the module's state_dict entries out of this checkpoint, in place (the module keeps its device).
    /// Every entry must be there with its shape and dtype; other tensors (an optimizer's) are left alone.
    /// </summary>
    public void LoadModule(nn.Module module) => LoadTensors(module.state_dict());

    /// <summary>As <see cref="LoadModule"/>, into named tensors.</summary>
    public void LoadTensors(IReadOnlyDictionary<string, Tensor> targets)
    {
        foreach (var (name, target) in targets) Fitting(name, target);
        using var _ = no_grad();
        foreach (var (name, target) in targets) target.copy_(_tensors[name]);
    }

    private Tensor Fitting(string name, Tensor target)
    {
        if (!_tensors.TryGetValue(name, out var source)) throw new InvalidDataException($"{Kind} checkpoint has no tensor '{name}'");
        if (source.dtype != target.dtype || !source.shape.SequenceEqual(target.shape))
            throw new InvalidDataException(
                $"{Kind} checkpoint tensor '{name}' is {source.dtype} [{string.Join(", ", source.shape)}], expected {target.dtype} [{string.Join(", ", target.shape)}]");
        return source;
    }

    /// <summary>AdamW's state for every parameter of <paramref name="module"/> it optimizes, and its settings.</summary>
    public void AddOptimizer(AdamW optimizer, nn.Module module) => AddOptimizer(optimizer, Named(module));

    /// <summary>AdamW's state for every parameter it optimizes, each under its name in <paramref name="parameters"/>, and its settings.</summary>
    public void AddOptimizer(AdamW optimizer, IReadOnlyDictionary<string, Parameter> parameters)
    {
        var groups = new List<AdamWGroup>();
        foreach (var (name, state) in AdamWStates(optimizer, parameters))
        {
            var prefix = OptimizerPrefix + name;
            Add(prefix + ".exp_avg", state.exp_avg);
            Add(prefix + ".exp_avg_sq", state.exp_avg_sq);
            Add(prefix + ".step", tensor(state.step, device: CPU));
            if (state.max_exp_avg_sq is not null) Add(prefix + ".max_exp_avg_sq", state.max_exp_avg_sq);
        }
        foreach (var o in optimizer.state_dict().Options.Cast<AdamW.Options>())
        {
            groups.Add(new AdamWGroup(o.LearningRate!.Value, o.InitialLearningRate, o.beta1!.Value, o.beta2!.Value, o.eps!.Value,
                o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value));
        }
        Optimizer = new OptimizerSettings("AdamW", groups);
    }

    /// <summary>Restores what <see cref="AddOptimizer(AdamW, nn.Module)"/> stored into an AdamW over the same parameters.</summary>
    public void LoadOptimizer(AdamW optimizer, nn.Module module) => LoadOptimizer(optimizer, Named(module));

    /// <summary>Restores what <see cref="AddOptimizer(AdamW, IReadOnlyDictionary{string, Parameter})"/> stored.</summary>
    public void LoadOptimizer(AdamW optimizer, IReadOnlyDictionary<string, Parameter> parameters)
    {
        var groups = optimizer.state_dict().Options.Cast<AdamW.Options>().ToList();
        if (Optimizer is not { Type: "AdamW" } settings || settings.ParamGroups.Count != groups.Count)
            throw new InvalidDataException($"{Kind} checkpoint has no AdamW state for {groups.Count} parameter group(s)");
        var states = AdamWStates(optimizer, parameters).ToList();
        foreach (var (name, state) in states)
        {
            var prefix = OptimizerPrefix + name;
            Fitting(prefix + ".exp_avg", state.exp_avg);
            Fitting(prefix + ".exp_avg_sq", state.exp_avg_sq);
            var step = _tensors.GetValueOrDefault(prefix + ".step");
            if (step is null || step.dtype != ScalarType.Int64 || step.numel() != 1)
                throw new InvalidDataException($"{Kind} checkpoint has no int64 scalar '{prefix}.step'");
        }
        using var _ = no_grad();
        foreach (var (name, state) in states)
        {
            var prefix = OptimizerPrefix + name;
            state.exp_avg.copy_(_tensors[prefix + ".exp_avg"]);
            state.exp_avg_sq.copy_(_tensors[prefix + ".exp_avg_sq"]);
            state.step = _tensors[prefix + ".step"].item<long>();
            state.max_exp_avg_sq?.Dispose();
            state.max_exp_avg_sq = _tensors.TryGetValue(prefix + ".max_exp_avg_sq", out var max)
                ? max.to(state.exp_avg_sq.device).clone().DetachFromDisposeScope()
                : null;
        }
        for (var i = 0; i < groups.Count; i++)
        {
            var (o, s) = (groups[i], settings.ParamGroups[i]);
            (o.LearningRate, o.InitialLearningRate, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.maximize) =
                (s.Lr, s.InitialLr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay, s.Amsgrad, s.Maximize);
        }
    }

    /// <summary>AdamW's per-parameter state in its own order, each named after the module parameter it belongs to.</summary>
    private static IReadOnlyDictionary<string, Parameter> Named(nn.Module module) => module.named_parameters().ToDictionary(p => p.name, p => p.parameter);

    private IEnumerable<(string Name, AdamW.State State)> AdamWStates(AdamW optimizer, IReadOnlyDictionary<string, Parameter> parameters)
    {
        var names = parameters.ToDictionary(p => p.Value.Handle, p => p.Key);
        var states = optimizer.state_dict().State;
        // state_dict lists the state of every parameter group's parameters in order, as parameters() does.
        var i = 0;
        foreach (var p in optimizer.parameters())
        {
            if (!names.TryGetValue(p.Handle, out var name)) throw new ArgumentException("the optimizer holds a parameter that is not among the named ones", nameof(parameters));
            yield return (name, (AdamW.State)states[i++]);
        }
    }

    /// <summary>The checkpoint as safetensors: its tensors in name order, the document in the metadata under <see cref="MetadataKey"/>.</summary>
    public byte[] ToBytes()
    {
        var document = JsonSerializer.Serialize(new Document(Format, Version, Kind, State?.DeepClone(), Optimizer), DocumentJson);
        using var ms = new MemoryStream();
        SafetensorsFile.Write(ms, _tensors.Select(p => (p.Key, p.Value)).ToList(), metadata: [new(MetadataKey, document)]);
        return ms.ToArray();
    }

    /// <summary>Reads a checkpoint of <paramref name="kind"/>; anything else (another kind or version, not safetensors, damaged) is an InvalidDataException.</summary>
    public static Checkpoint FromBytes(byte[] bytes, string kind)
    {
        using var file = Open(bytes, kind, out var document);
        var checkpoint = new Checkpoint(kind) { State = document.State?.DeepClone(), Optimizer = document.Optimizer };
        try
        {
            foreach (var name in file.Entries.Keys) checkpoint._tensors[name] = file.Read(name).DetachFromDisposeScope();
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Only the kind's state, from the header, without reading a tensor.</summary>
    public static T ReadState<T>(byte[] bytes, string kind) where T : class
    {
        using var file = Open(bytes, kind, out var document);
        using var c = new Checkpoint(kind) { State = document.State };
        return c.GetState<T>();
    }

    /// <summary>
    /// The blob as a safetensors file held to the strict checks (it is ours: every tensor's bytes accounted for),
    /// and its document, which must be of this format, version and kind.
    /// </summary>
    private static SafetensorsFile Open(byte[] bytes, string kind, out Document document)
    {
        // What every error about the blob starts with: the reason follows, naming the tensor where one is at fault.
        var what = $"not a MORLAIF {kind} checkpoint";
        var file = SafetensorsFile.Open(new MemoryStream(bytes, writable: false), what, m => new InvalidDataException(m), dense: true);
        try
        {
            if (!file.Metadata.TryGetValue(MetadataKey, out var json))
                throw new InvalidDataException($"{what}: the safetensors file has no '{MetadataKey}' metadata");
            try
            {
                document = JsonSerializer.Deserialize<Document>(json, DocumentJson) ?? throw new InvalidDataException($"{what}: its metadata is empty");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{what}: its metadata is not readable ({e.Message})", e);
            }
            if (document.Format != Format) throw new InvalidDataException($"{what}: its format is '{document.Format}'");
            if (document.Version != Version) throw new InvalidDataException($"{kind} checkpoint format version {document.Version} is not supported (expected {Version})");
            if (document.Kind != kind) throw new InvalidDataException($"{what}: it is a '{document.Kind}' checkpoint");
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A module's state_dict as a checkpoint of <paramref name="kind"/>, with <paramref name="state"/> as its fields.</summary>
    public static byte[] Save<T>(string kind, nn.Module module, T state)
    {
        using var c = new Checkpoint(kind);
        c.SetState(state);
        c.AddModule(module);
        return c.ToBytes();
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }

    /// <summary>The JSON document in the metadata.</summary>
    private sealed record Document(string Format, int Version, string Kind, JsonNode? State, OptimizerSettings? Optimizer);
}

/// <summary>An optimizer's type and its settings per parameter group (PyTorch's param_groups, without the parameter lists).</summary>
public sealed record OptimizerSettings(string Type, IReadOnlyList<AdamWGroup> ParamGroups);

public sealed record AdamWGroup(double Lr, double InitialLr, double Beta1, double Beta2, double Eps, double WeightDecay, bool Amsgrad, bool Maximize);
