using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// A Hugging Face causal LM as SFT trains it: every parameter (<see cref="Full"/>), or one LoRA adapter's A and B on
/// the frozen base (<see cref="Adapter"/>, PEFT's way: the adapter is made active before every forward pass, since
/// the base may carry others).
/// </summary>
public sealed class HfSftPolicy : ISftPolicy
{
    private readonly HfCausalLm _model;
    private readonly LoraModel? _lora;
    private readonly string? _adapter;

    private HfSftPolicy(HfCausalLm model, IReadOnlyList<Parameter> trainable, LoraModel? lora = null, string? adapter = null)
    {
        _model = model;
        Trainable = trainable;
        _lora = lora;
        _adapter = adapter;
    }

    public static HfSftPolicy Full(HfCausalLm model) => new(model, model.parameters().ToList());

    public static HfSftPolicy Adapter(LoraModel lora, string adapter) => new(lora.Model, lora.Parameters(adapter), lora, adapter);

    public Device Device => _model.parameters().First().device;

    public IReadOnlyList<Parameter> Trainable { get; }

    public Tensor Logits(Tensor tokens, Tensor valid)
    {
        _lora?.SetActive(_adapter);
        return Scoped.Run(() => _model.Forward(tokens, valid).to(ScalarType.Float32));
    }

    public void SetTraining(bool training)
    {
        if (training) _model.train();
        else _model.eval();
    }

    /// <summary>
    /// One example's ids: the tokenizer's prefix (BOS where its files say so), the prompt, the completion and EOS,
    /// each part encoded on its own (as TRL's prompt-completion collator does), cut to <paramref name="maxLength"/>
    /// from the end. Null when the prompt leaves no room for a completion token. With an empty prompt (plain text)
    /// everything after the first token is trained on.
    /// </summary>
    public static Demonstration? Demonstrate(Tokenization.PreTrainedTokenizer tokenizer, string prompt, string completion, int maxLength)
    {
        var ids = tokenizer.EncodeCompleted(prompt, completion);
        var start = Math.Max(1, tokenizer.EncodePrompt(prompt).Length);
        if (ids.Length > maxLength) ids = ids[..maxLength];
        return start < ids.Length ? new Demonstration(ids, start) : null;
    }
}
