using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace;

/// <summary>GPT-2's MLP: c_fc, the activation, c_proj.</summary>
public sealed class Gpt2Mlp : Module<Tensor, Tensor>
{
    private readonly Conv1D c_fc;
    private readonly Conv1D c_proj;
    private readonly string _activation;

    public Gpt2Mlp(HfConfig config) : base(nameof(Gpt2Mlp))
    {
        c_fc = new Conv1D(config.HiddenSize, config.IntermediateSize);
        c_proj = new Conv1D(config.IntermediateSize, config.HiddenSize);
        _activation = config.Activation;
        RegisterComponents();
    }

    public Conv1D CFc => c_fc;

    public Conv1D CProj => c_proj;

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
