using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using Morlaif.Learning.World;
using TorchSharp;

namespace Morlaif.Learning.Stages;

/// <summary>Supervised fine-tuning of a fresh policy on the world's mixed-quality demonstrations.</summary>
public static class SftStage
{
    public static (PolicyModel Policy, double FinalLoss, int Demonstrations) Train(WorldRun ctx)
    {
        var rng = new Random(ctx.Seed("sft"));
        var c = ctx.Config.Sft;
        var demos = Prompts.Sample(rng, c.Demonstrations)
            .Select(p => ctx.Tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)))
            .Select(x => new Demonstration(x.Ids, x.ResponseStart)).ToList();
        var policy = PolicyModel.Initialized(ctx.ModelConfig, ctx.Seed("sft-init"));
        policy.to(ctx.Device);
        // The epochs' shuffles continue the stream that drew the demonstrations.
        var losses = SupervisedFineTuning.Train(policy, demos, new SftSettings(c.Epochs, c.BatchSize, c.LearningRate), rng);
        return (policy, losses[^1].Loss, demos.Count);
    }
}
