using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>One adapter's low-rank pair on one projection: A [r, in], B [out, r], and its scaling alpha / r.</summary>
public sealed record LoraPair(Parameter A, Parameter B, double Scaling, double Dropout);

/// <summary>
/// A frozen projection (<see cref="Linear"/>, y = x W^T + b, or GPT-2's <see cref="Conv1D"/>, y = x W + b with W stored
/// [in, out]: PEFT's fan_in_fan_out) plus named low-rank adapters, at most one active: y = base(x) + B A dropout(x) * alpha / r.
/// The base weight and bias stay registered as "weight" and "bias", so the model's state_dict keeps the checkpoint's keys
/// (HfModelFolder saves and loads a wrapped model unchanged); the adapters are deliberately not registered, so they never
/// enter the base's checkpoint and are saved only in PEFT's layout by <see cref="LoraFolder"/>.
/// </summary>
public sealed class LoraLayer : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Dictionary<string, LoraPair> _adapters = new(StringComparer.Ordinal);

    public LoraLayer(Module<Tensor, Tensor> baseLayer) : base(nameof(LoraLayer))
    {
        switch (baseLayer)
        {
            case Conv1D c:
                (weight, bias, FanInFanOut) = (c.Weight, c.Bias, true);
                (InFeatures, OutFeatures) = (weight.shape[0], weight.shape[1]);
                break;
            case Linear l:
                (weight, bias, FanInFanOut) = (l.weight!, l.bias, false);
                (InFeatures, OutFeatures) = (weight.shape[1], weight.shape[0]);
                break;
            default:
                throw new NotSupportedException($"LoRA wraps Linear or Conv1D projections, not {baseLayer.GetType().Name}");
        }
        RegisterComponents();
    }

    /// <summary>True for Conv1D's [in, out] weight (PEFT's fan_in_fan_out).</summary>
    public bool FanInFanOut { get; }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    public Parameter Weight => weight;

    /// <summary>The adapter the forward pass adds, or null for the base alone.</summary>
    public string? Active { get; internal set; }

    /// <summary>The adapter currently added into <see cref="Weight"/>, if any (then the forward pass adds nothing more).</summary>
    public string? Merged { get; private set; }

    public IReadOnlyDictionary<string, LoraPair> Adapters => _adapters;

    /// <summary>
    /// Adds adapter <paramref name="name"/>: A drawn as PEFT's default (kaiming_uniform_ with a = sqrt(5), i.e. U(±1/sqrt(in))),
    /// B zero, so a fresh adapter leaves the output exactly as the base's. On the base weight's device and dtype.
    /// </summary>
    internal void Add(string name, LoraSettings s, Generator generator)
    {
        if (_adapters.ContainsKey(name)) throw new ArgumentException($"adapter '{name}' exists already", nameof(name));
        using var _ = no_grad();
        var bound = 1 / Math.Sqrt(InFeatures);
        var a = (rand([s.Rank, InFeatures], generator: generator) * (2 * bound) - bound).to(weight.dtype).to(weight.device);
        var b = zeros([OutFeatures, s.Rank], weight.dtype, weight.device);
        _adapters[name] = new LoraPair(new Parameter(a), new Parameter(b), s.Scaling, s.Dropout);
    }

    internal void Remove(string name)
    {
        if (Merged == name) throw new InvalidOperationException($"adapter '{name}' is merged; unmerge it first");
        if (!_adapters.Remove(name, out var pair)) return;
        if (Active == name) Active = null;
        pair.A.Dispose();
        pair.B.Dispose();
    }

    /// <summary>The update B A * scaling in the base weight's own layout ([in, out] for Conv1D).</summary>
    public Tensor DeltaWeight(string name)
    {
        var p = _adapters[name];
        var delta = matmul(p.B, p.A) * p.Scaling;
        return FanInFanOut ? delta.t() : delta;
    }

    /// <summary>W += delta (PEFT's merge): the forward pass then costs what the base costs.</summary>
    internal void Merge(string name)
    {
        if (Merged is not null) throw new InvalidOperationException($"adapter '{Merged}' is merged already");
        using var _ = no_grad();
        using var delta = DeltaWeight(name);
        weight.add_(delta);
        Merged = name;
    }

    /// <summary>W += delta and the adapter dropped (PEFT's merge_and_unload for one adapter): the base now is the adapted model.</summary>
    internal void Bake(string name)
    {
        if (Merged is not null) throw new InvalidOperationException($"adapter '{Merged}' is merged; unmerge it first");
        if (!_adapters.ContainsKey(name)) return;
        using (no_grad())
        using (var delta = DeltaWeight(name))
            weight.add_(delta);
        Remove(name);
    }

    /// <summary>W -= delta (PEFT's unmerge): the base weight again, up to fp32 rounding of the add and subtract.</summary>
    internal void Unmerge()
    {
        if (Merged is not { } name) return;
        using var _ = no_grad();
        using var delta = DeltaWeight(name);
        weight.sub_(delta);
        Merged = null;
    }

    public override Tensor forward(Tensor x)
    {
        // The base computation is the wrapped module's own (Conv1D's addmm, Linear's linear), so with no adapter,
        // or a fresh one (B = 0 adds exact zeros), the output is bit-identical to the unwrapped model's.
        Tensor y;
        if (FanInFanOut)
        {
            var shape = x.shape.ToArray();
            shape[^1] = OutFeatures;
            y = addmm(bias!, x.reshape(-1, x.shape[^1]), weight, beta: 1, alpha: 1).view(shape);
        }
        else
        {
            y = functional.linear(x, weight, bias);
        }
        if (Active is not { } name || Merged is not null) return y;
        var p = _adapters[name];
        var input = p.Dropout > 0 ? functional.dropout(x, p.Dropout, training) : x;
        return y + functional.linear(functional.linear(input, p.A), p.B) * p.Scaling;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var p in _adapters.Values)
            {
                p.A.Dispose();
                p.B.Dispose();
            }
        base.Dispose(disposing);
    }
}
