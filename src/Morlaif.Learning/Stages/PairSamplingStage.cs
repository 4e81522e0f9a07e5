using Morlaif.Learning.Models;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>Samples the response pairs the judge will label: two different SFT responses per prompt.</summary>
public static class PairSamplingStage
{
    public static PairSet Sample(RunContext ctx, PolicyModel sft)
    {
        var rng = new Random(ctx.Seed("pairs"));
        using var generator = new Generator((ulong)ctx.Seed("pairs-sampling"), ctx.Device);
        var c = ctx.Config.Pairs;
        var needed = c.Train + c.Test + c.Human + c.Accuracy;
        var pairs = new List<ResponsePair>();
        // Identical responses carry no preference; draw more prompts until enough pairs differ.
        for (var round = 0; pairs.Count < needed && round < 20; round++)
        {
            var prompts = Prompts.Sample(rng, (needed - pairs.Count) * 5 / 4 + 8);
            var ids = prompts.Select(p => ctx.Tokenizer.EncodePrompt(p.Text)).ToList();
            var a = Sampler.Generate(sft, ids, ctx.Config.Ppo.MaxNewTokens, generator);
            var b = Sampler.Generate(sft, ids, ctx.Config.Ppo.MaxNewTokens, generator);
            for (var i = 0; i < prompts.Count && pairs.Count < needed; i++)
                if (!a[i].SequenceEqual(b[i]))
                    pairs.Add(new ResponsePair(prompts[i], ids[i], a[i], b[i], ctx.Tokenizer.Decode(a[i]), ctx.Tokenizer.Decode(b[i])));
        }
        if (pairs.Count < needed)
            throw new InvalidOperationException($"the SFT policy produced only {pairs.Count} distinct pairs of the {needed} needed");
        int human = c.Train + c.Test, accuracy = human + c.Human;
        return new PairSet(pairs[..c.Train], pairs[c.Train..human], pairs[human..accuracy], pairs[accuracy..]);
    }
}
