using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>
/// What supervised fine-tuning needs of a causal LM, whatever the model family: next-token logits of a right-padded
/// batch, the parameters the optimizer updates and a training-mode switch. The world's <see cref="Models.PolicyModel"/>
/// is one (all of it trained); a Hugging Face model is another, trained whole or through one LoRA adapter on the
/// frozen base (<see cref="HuggingFace.HfSftPolicy"/>).
/// </summary>
public interface ISftPolicy
{
    Device Device { get; }

    /// <summary>Next-token logits [B, T, V] in float32 (the loss's precision whatever the weights'), of right-padded tokens [B, T] whose real ones <paramref name="valid"/> marks.</summary>
    Tensor Logits(Tensor tokens, Tensor valid);

    /// <summary>
    /// The parameters training updates, in the optimizer's order. A list, not the named dictionary of
    /// <see cref="IPreferenceScorer"/>: SFT keeps no checkpoint between epochs, so no optimizer state is stored by name.
    /// </summary>
    IReadOnlyList<Parameter> Trainable { get; }

    /// <summary>Training mode (dropout, if any) for the SFT epochs; evaluation mode after.</summary>
    void SetTraining(bool training);
}
