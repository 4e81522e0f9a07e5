using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>The SiLU-gated MLP: down_proj(silu(gate_proj(x)) * up_proj(x)).</summary>
public sealed class LlamaMlp : Module<Tensor, Tensor>
{
    private Module<Tensor, Tensor> gate_proj;
    private Module<Tensor, Tensor> up_proj;
    private Module<Tensor, Tensor> down_proj;

    public LlamaMlp(HfConfig config) : base(nameof(LlamaMlp))
    {
        gate_proj = Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: CPU);
        up_proj = Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: CPU);
        down_proj = Linear(config.IntermediateSize, config.HiddenSize, hasBias: config.MlpBias, device: CPU);
        RegisterComponents();
    }

    /// <summary>The projections by their Hugging Face names (gate_proj, up_proj, down_proj).</summary>
    public IReadOnlyDictionary<string, Module<Tensor, Tensor>> Projections =>
        new Dictionary<string, Module<Tensor, Tensor>> { ["gate_proj"] = gate_proj, ["up_proj"] = up_proj, ["down_proj"] = down_proj };

    /// <summary>Puts <paramref name="module"/> in place of a projection (a LoRA wrapper), under the same name.</summary>
    public void ReplaceProjection(string name, Module<Tensor, Tensor> module)
    {
        switch (name)
        {
            case "gate_proj": gate_proj = module; break;
            case "up_proj": up_proj = module; break;
            case "down_proj": down_proj = module; break;
            default: throw new ArgumentException($"no projection '{name}'", nameof(name));
        }
        // TorchSharp's register_module refuses a taken name; the old projection leaves the registry first.
        _internal_submodules.Remove(name);
        register_module(name, module);
    }

    public override Tensor forward(Tensor x) => down_proj.forward(functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}
