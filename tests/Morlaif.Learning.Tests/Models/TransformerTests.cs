using Morlaif.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Models;

public class TransformerTests
{
    [Fact]
    public void Cached_step_by_step_logits_equal_the_full_forward_pass()
    {
        var policy = Tiny.Policy(1, dModel: 32, layers: 2);
        policy.eval();
        using var _ = no_grad();
        var ids = Tiny.Tokenizer.EncodePair("what is the capital of france ?", "the capital of france is paris .").Ids;
        var batch = SequenceBatch.RightPadded([ids]);
        var full = policy.Logits(batch.Tokens, batch.Valid);

        using var cache = new KvCache(2);
        var prefix = 5;
        var stepLogits = new List<Tensor> { policy.Logits(batch.Tokens[.., ..prefix], batch.Valid[.., ..prefix], cache) };
        for (var t = prefix; t < ids.Length; t++)
            stepLogits.Add(policy.Logits(batch.Tokens[.., t..(t + 1)], batch.Valid[.., t..(t + 1)], cache));
        var cached = cat(stepLogits, 1);
        Assert.True(full.allclose(cached, rtol: 1e-4, atol: 1e-5), $"max diff {(full - cached).abs().max().item<float>()}");
    }

    [Fact]
    public void Left_padding_does_not_change_a_prompts_logits()
    {
        var policy = Tiny.Policy(2);
        policy.eval();
        using var _ = no_grad();
        var shortPrompt = Tiny.Tokenizer.EncodePrompt("i feel so sad today .");
        var longPrompt = Tiny.Tokenizer.EncodePrompt("i have been sad all week and i do not know what to do .");
        var alone = SequenceBatch.RightPadded([shortPrompt]);
        var padded = SequenceBatch.LeftPadded([shortPrompt, longPrompt]);
        var a = policy.Logits(alone.Tokens, alone.Valid)[0, -1];
        var b = policy.Logits(padded.Tokens, padded.Valid)[0, -1];
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void A_preference_model_starts_from_the_policys_trunk()
    {
        var policy = Tiny.Policy(3);
        var pm = PreferenceModel.FromPolicy(policy);
        var policyTrunk = policy.state_dict().Where(kv => kv.Key.StartsWith("trunk.")).ToDictionary();
        var pmTrunk = pm.state_dict().Where(kv => kv.Key.StartsWith("trunk.")).ToDictionary();
        Assert.Equal(policyTrunk.Keys.Order(), pmTrunk.Keys.Order());
        Assert.All(policyTrunk, kv => Assert.True(kv.Value.equal(pmTrunk[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Contains("reward_head.weight", pm.state_dict().Keys);
    }

    [Fact]
    public void Sampling_is_reproducible_and_respects_the_token_budget()
    {
        var policy = Tiny.Policy(4);
        var prompts = Enumerable.Range(0, 6).Select(_ => Tiny.Tokenizer.EncodePrompt("what is the capital of peru ?")).ToList();
        List<int[]> Sample()
        {
            using var g = new Generator(42);
            return Sampler.Generate(policy, prompts, maxNewTokens: 7, g);
        }
        var first = Sample();
        var second = Sample();
        Assert.Equal(first.Select(r => string.Join(',', r)), second.Select(r => string.Join(',', r)));
        Assert.All(first, r => Assert.InRange(r.Length, 1, 7));
        Assert.All(first.SelectMany(r => r), id => Assert.True(id >= Morlaif.Learning.World.WordTokenizer.Eos && id != Morlaif.Learning.World.WordTokenizer.Unk));
    }
}
