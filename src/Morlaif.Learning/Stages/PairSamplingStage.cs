using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.Stages;

/// <summary>
/// Where the pairs' prompts come from, round by round. A pair whose two responses are the same carries no preference,
/// so the next round replaces it: the world draws other prompts (it has as many as it likes); a dataset asks the same
/// prompt again (its prompts are fixed and drawn apart from the evaluation's).
/// </summary>
public abstract class PairPrompts<TPrompt>
{
    /// <summary>How many rounds may sample; pairs still identical after the last one are kept and counted.</summary>
    public abstract int Rounds { get; }

    /// <summary>Round <paramref name="round"/>'s prompts, for <paramref name="missing"/> pairs still to sample; <paramref name="identical"/> are the prompts of the last round's identical pairs.</summary>
    public abstract IReadOnlyList<TPrompt> Next(int round, int missing, IReadOnlyList<TPrompt> identical);

    /// <summary>Fresh prompts each round, a few more than missing (some pairs come out identical).</summary>
    public static PairPrompts<TPrompt> Drawn(Func<Random, TPrompt> draw, Random rng) => new DrawnPrompts(draw, rng);

    /// <summary>Every prompt once, then the prompts of identical pairs again, up to three times.</summary>
    public static PairPrompts<TPrompt> Fixed(IReadOnlyList<TPrompt> prompts) => new FixedPrompts(prompts);

    private sealed class DrawnPrompts(Func<Random, TPrompt> draw, Random rng) : PairPrompts<TPrompt>
    {
        public override int Rounds => 20;

        public override IReadOnlyList<TPrompt> Next(int round, int missing, IReadOnlyList<TPrompt> identical) =>
            [.. Enumerable.Range(0, missing * 5 / 4 + 8).Select(_ => draw(rng))];
    }

    private sealed class FixedPrompts(IReadOnlyList<TPrompt> prompts) : PairPrompts<TPrompt>
    {
        public override int Rounds => 4;

        public override IReadOnlyList<TPrompt> Next(int round, int missing, IReadOnlyList<TPrompt> identical) => round == 0 ? prompts : identical;
    }
}

/// <summary>Samples the response pairs the judge will label: two SFT responses per prompt, whatever the model family.</summary>
public static class PairSamplingStage
{
    /// <summary>
    /// The first <paramref name="train"/> pairs make the training split, then <paramref name="test"/> held-out pairs, then
    /// (where a truth can decide them) <paramref name="human"/> pairs for the raters and <paramref name="accuracy"/> for the truth.
    /// </summary>
    public static PairSet<TPrompt> Sample<TPrompt>(IGenerativePolicy sft, IPromptTokenizer<TPrompt> tokenizer, PairPrompts<TPrompt> prompts, RunConfig config,
        Device device, int train, int test, int human = 0, int accuracy = 0)
    {
        using var generator = new Generator((ulong)Seeds.Derive(config.Seed, "pairs-sampling"), device);
        var needed = train + test + human + accuracy;
        var pairs = new List<ResponsePair<TPrompt>>();
        var identical = new List<ResponsePair<TPrompt>>();
        for (var round = 0; pairs.Count < needed && round < prompts.Rounds; round++)
        {
            var asked = prompts.Next(round, needed - pairs.Count, [.. identical.Select(p => p.Prompt)]);
            identical.Clear();
            var ids = asked.Select(tokenizer.EncodePrompt).ToList();
            var a = sft.Generate(ids, config.Ppo.MaxNewTokens, generator);
            var b = sft.Generate(ids, config.Ppo.MaxNewTokens, generator);
            for (var i = 0; i < asked.Count && pairs.Count < needed; i++)
            {
                var pair = new ResponsePair<TPrompt>(asked[i], tokenizer.Conversation(asked[i]), ids[i], a[i], b[i], tokenizer.Decode(a[i]), tokenizer.Decode(b[i]));
                (a[i].SequenceEqual(b[i]) ? identical : pairs).Add(pair);
            }
        }
        var same = Math.Min(identical.Count, needed - pairs.Count);
        pairs.AddRange(identical.Take(same));
        if (pairs.Count < needed)
            throw new InvalidOperationException($"the SFT policy produced only {pairs.Count} distinct pairs of the {needed} needed");
        int heldOut = train + test, raters = heldOut + human;
        return new PairSet<TPrompt>(pairs[..train], pairs[train..heldOut], pairs[heldOut..raters], pairs[raters..], same);
    }
}
