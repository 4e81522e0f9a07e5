using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Ppo;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// PPO on a text run, in the world's chunks and with its settings: the policy is a LoRA adapter with a value head on
/// the SFT policy (<see cref="HfPpoPolicy"/>), whose reference is the SFT policy itself (the adapter off), and the
/// reward is the arm's PM reward at the response's end.
/// </summary>
public static class TextPpoStage
{
    /// <summary>A fresh learner on <paramref name="sftPolicy"/> (the caller owns the base; the learner owns the adapter).</summary>
    public static PpoLearner Learner(TextRun run, HfCausalLm sftPolicy, IRewardModel reward) =>
        new(new HfPpoPolicy(sftPolicy, run.StopIds(sftPolicy), run.Lora, run.Seed("ppo-adapter")), reward, run.Config.Ppo, run.Seed("ppo"));

    /// <summary>
    /// The prompts of one iteration, drawn from the training pairs' prompts (never the held-out or evaluation ones) by
    /// the seed and the iteration: both arms see the same prompts in the same order.
    /// </summary>
    public static List<int[]> Prompts(TextRun run, IReadOnlyList<string> trainPrompts, int iteration)
    {
        var rng = new Random(run.Seed("ppo-prompts", iteration));
        return Enumerable.Range(0, run.Config.Ppo.RolloutsPerIteration).Select(_ => run.EncodePrompt(trainPrompts[rng.Next(trainPrompts.Count)])).ToList();
    }

    /// <summary>The trained policy of an arm (from its final checkpoint) on <paramref name="sftPolicy"/>, for evaluation or export.</summary>
    public static HfPpoPolicy Policy(TextRun run, HfCausalLm sftPolicy, byte[] checkpoint)
    {
        var policy = new HfPpoPolicy(sftPolicy, run.StopIds(sftPolicy), run.Lora);
        try
        {
            using var c = Checkpoint.FromBytes(checkpoint, PpoLearner.CheckpointKind);
            c.LoadTensors(policy.State);
            return policy;
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    /// <summary>Each evaluation prompt answered once by <paramref name="policy"/>, sampled with the run's evaluation seed (the same for both arms).</summary>
    public static List<string> Answer(TextRun run, HfPpoPolicy policy, IReadOnlyList<string> prompts)
    {
        using var g = new Generator((ulong)run.Seed("evaluation-sampling"), run.Device);
        return policy.Generate(prompts.Select(run.EncodePrompt).ToList(), run.Config.Ppo.MaxNewTokens, g).Select(run.Decode).ToList();
    }
}
