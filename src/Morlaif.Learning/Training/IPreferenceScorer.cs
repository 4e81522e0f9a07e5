using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Morlaif.Learning.Training;

/// <summary>
/// What training and applying a preference model need of it, whatever the model family: a score per full sequence
/// (prompt and response, read at its last real token), with gradients while training and batched without them for
/// scoring; the parameters training updates, by the names a checkpoint stores their optimizer state under; and the
/// tensors a checkpoint keeps. The world's <see cref="Models.PreferenceModel"/> is one (its whole network); a LoRA
/// adapter with its score head on a Hugging Face base is another (<see cref="HuggingFace.Lora.HfPreferenceModel.Principle"/>).
/// </summary>
public interface IPreferenceScorer
{
    Device Device { get; }

    /// <summary>Scores [N] of <paramref name="sequences"/> in one batch, differentiable (for a training step).</summary>
    Tensor Score(IReadOnlyList<int[]> sequences);

    /// <summary>Scores of <paramref name="sequences"/> in evaluation mode, without gradients, batched as the model family does best.</summary>
    double[] ScoreAll(IReadOnlyList<int[]> sequences);

    /// <summary>The parameters training updates.</summary>
    IReadOnlyDictionary<string, Parameter> Trainable { get; }

    /// <summary>The tensors a checkpoint keeps to restore the model, by name.</summary>
    IReadOnlyDictionary<string, Tensor> State { get; }

    void SetTraining(bool training);
}
