using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>GPT-2's MLP: c_fc, the activation, c_proj.</summary>
public sealed class Gpt2Mlp : Module<Tensor, Tensor>
{
    private Module<Tensor, Tensor> c_fc;
    private Module<Tensor, Tensor> c_proj;
    private readonly string _activation;

    public Gpt2Mlp(HfConfig config) : base(nameof(Gpt2Mlp))
    {
        c_fc = new Conv1D(config.HiddenSize, config.IntermediateSize);
        c_proj = new Conv1D(config.IntermediateSize, config.HiddenSize);
        _activation = config.Activation;
        RegisterComponents();
    }

    /// <summary>The projections by their Hugging Face names (c_fc, c_proj): Conv1D unless replaced.</summary>
    public IReadOnlyDictionary<string, Module<Tensor, Tensor>> Projections =>
        new Dictionary<string, Module<Tensor, Tensor>> { ["c_fc"] = c_fc, ["c_proj"] = c_proj };

    /// <summary>Puts <paramref name="module"/> in place of a projection (a LoRA wrapper), under the same name.</summary>
    public void ReplaceProjection(string name, Module<Tensor, Tensor> module)
    {
        switch (name)
        {
            case "c_fc": c_fc = module; break;
            case "c_proj": c_proj = module; break;
            default: throw new ArgumentException($"no projection '{name}'", nameof(name));
        }
        // TorchSharp's register_module refuses a taken name; the old projection leaves the registry first.
        _internal_submodules.Remove(name);
        register_module(name, module);
    }

    public override Tensor forward(Tensor x) => c_proj.forward(Activate(c_fc.forward(x)));

    private Tensor Activate(Tensor x) => _activation switch
    {
        // gelu_new: the tanh approximation of GELU that GPT-2 was trained with (exact gelu differs by ~1e-3).
        "gelu_new" or "gelu_pytorch_tanh" => 0.5 * x * (1 + tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3)))),
        "gelu" => functional.gelu(x),
        "relu" => functional.relu(x),
        var a => throw new NotSupportedException($"activation_function '{a}'"),
    };
}
