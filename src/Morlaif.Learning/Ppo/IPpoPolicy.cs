using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// What PPO trains and what it compares against: rollouts from the policy, its per-token logits and values, the
/// frozen reference policy's logits, the parameters the optimizer updates, and the tensors a checkpoint keeps.
/// The synthetic world's policy is a whole model with a clone as reference (<see cref="WorldPpoPolicy"/>); a
/// Hugging Face policy is a LoRA adapter on a frozen base whose reference is the base with the adapter off
/// (<see cref="HuggingFace.Lora.HfPpoPolicy"/>), so the reference costs no second copy.
/// </summary>
public interface IPpoPolicy : IGenerativePolicy, IDisposable
{
    Device Device { get; }

    /// <summary>Logits [B, T, V] of right-padded sequences (what a critic-free algorithm asks: no value head).</summary>
    Tensor Logits(Tensor tokens, Tensor valid);

    /// <summary>Logits [B, T, V] and values [B, T] of right-padded sequences (PPO's; a policy made without a value head throws).</summary>
    (Tensor Logits, Tensor Values) LogitsAndValues(Tensor tokens, Tensor valid);

    /// <summary>The reference (SFT) policy's sampled responses, as <see cref="IGenerativePolicy.Generate"/> (what the monitor compares the policy with).</summary>
    List<int[]> GenerateReference(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator);

    /// <summary>The reference policy's logits [B, T, V] for the same sequences (no gradient needed).</summary>
    Tensor ReferenceLogits(Tensor tokens, Tensor valid);

    /// <summary>The parameters PPO updates, by the names a checkpoint stores their optimizer state under.</summary>
    IReadOnlyDictionary<string, Parameter> Trainable { get; }

    /// <summary>The tensors a checkpoint keeps to restore the trained policy, by name.</summary>
    IReadOnlyDictionary<string, Tensor> State { get; }

    /// <summary>Training mode (dropout, if any) for the PPO epochs; evaluation mode for rollouts and scoring.</summary>
    void SetTraining(bool training);
}

/// <summary>A policy that answers prompts: what pair sampling, PPO's rollouts and the evaluation ask of every model family.</summary>
public interface IGenerativePolicy
{
    /// <summary>Sampled responses (token ids after the prompt, ending with eos when one was drawn), seeded by <paramref name="generator"/>.</summary>
    List<int[]> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator);
}
