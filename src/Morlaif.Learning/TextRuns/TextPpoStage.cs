using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Ppo;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// The RL stage on a text run, in the world's chunks and with its settings: the policy is a LoRA adapter (with PPO's
/// value head) on the SFT policy (<see cref="HfPpoPolicy"/>), whose reference is the SFT policy itself (the adapter off), and the
/// reward is the arm's PM reward at the response's end.
/// </summary>
public static class TextPpoStage
{
    /// <summary>A fresh learner on <paramref name="sftPolicy"/> (the caller owns the base; the learner owns the adapter), with the arm's PPO settings.</summary>
    public static PpoLearner Learner(TextRun run, HfCausalLm sftPolicy, IRewardModel reward, Ppo.PpoSettings ppo) =>
        new(new HfPpoPolicy(sftPolicy, run.StopIds(sftPolicy), run.Lora, run.Seed("ppo-adapter"), valueHead: !ppo.CriticFree), reward, ppo, run.Seed("ppo"));

    /// <summary>The trained policy of an arm (from its final checkpoint) on <paramref name="sftPolicy"/>, for evaluation or export.</summary>
    public static HfPpoPolicy Policy(TextRun run, HfCausalLm sftPolicy, byte[] checkpoint, Ppo.PpoSettings ppo)
    {
        var policy = new HfPpoPolicy(sftPolicy, run.StopIds(sftPolicy), run.Lora, valueHead: !ppo.CriticFree);
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
}
