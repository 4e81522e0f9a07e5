using Morlaif.Learning.Models;
using Morlaif.Learning.World;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Models;

/// <summary>The speed-ups that skip padding and finished rows compute, for every real token, what the padded batch did.</summary>
public class UnpaddedTests
{
    private static readonly string[] Texts =
    [
        "what is the capital of france ?", "i feel so sad today .", "i have been sad all week and i do not know what to do .", "hi",
    ];

    private static List<int[]> Sequences() =>
        [.. Texts.Select((t, i) => Tiny.Tokenizer.EncodePair(t, string.Join(' ', Enumerable.Repeat("ok", i * 3 + 1))).Ids)];

    [Fact]
    public void A_padded_batch_gives_each_sequence_the_logits_values_and_score_it_has_alone()
    {
        var policy = Tiny.Policy(5, dModel: 32, layers: 2);
        var pm = PreferenceModel.FromPolicy(policy);
        using (no_grad()) pm.parameters().Last().fill_(0.3); // a nonzero head, so the scores mean something
        policy.eval();
        pm.eval();
        using var _ = no_grad();
        var seqs = Sequences();
        var batch = SequenceBatch.RightPadded(seqs);
        Assert.False(batch.Valid.all().item<bool>()); // the batch does carry padding
        var (logits, values) = policy.LogitsAndValues(batch.Tokens, batch.Valid);
        var scores = pm.Score(seqs);
        for (var i = 0; i < seqs.Count; i++)
        {
            var alone = SequenceBatch.RightPadded([seqs[i]]);
            var (l, v) = policy.LogitsAndValues(alone.Tokens, alone.Valid);
            var n = seqs[i].Length;
            Assert.True(logits[i, ..n].allclose(l[0], rtol: 1e-4, atol: 1e-5), $"row {i}: logits");
            Assert.True(values[i, ..n].allclose(v[0], rtol: 1e-4, atol: 1e-5), $"row {i}: values");
            Assert.True(policy.Logits(alone.Tokens, alone.Valid)[0].allclose(l[0], rtol: 1e-4, atol: 1e-5), $"row {i}: Logits and LogitsAndValues");
            Assert.Equal(pm.Score([seqs[i]]).item<float>(), scores[i].item<float>(), 1e-5);
        }
    }

    [Fact]
    public void Scoring_many_sequences_returns_each_score_in_the_callers_order()
    {
        var pm = PreferenceModel.FromPolicy(Tiny.Policy(6));
        using (no_grad()) pm.parameters().Last().fill_(0.3);
        var seqs = Enumerable.Range(0, 300).Select(i => Sequences()[i % 4]).ToList(); // more than one batch of 256, lengths interleaved
        var all = pm.ScoreAll(seqs);
        var alone = Sequences().Select(s => pm.ScoreAll([s])[0]).ToArray();
        Assert.All(all.Select((s, i) => (s, i)), x => Assert.Equal(alone[x.i % 4], x.s, 1e-5));
    }

    [Fact]
    public void World_pms_scored_side_by_side_give_each_its_own_scores()
    {
        var pms = Enumerable.Range(0, 3).Select(i =>
        {
            var pm = PreferenceModel.FromPolicy(Tiny.Policy(20 + i));
            using (no_grad()) pm.parameters().Last().fill_(0.1 * (i + 1));
            return new Morlaif.Learning.Ppo.PrincipleScorer($"p{i}", pm, new Morlaif.Learning.Weights.ScoreNormalizer(0, 1));
        }).ToList();
        var seqs = Enumerable.Range(0, 40).Select(i => Sequences()[i % 4]).ToList();
        var threads = get_num_threads();
        try
        {
            set_num_threads(1); // as in the in-process world run: one thread per stage, so the PMs take the idle cores
            var together = ((Morlaif.Learning.Ppo.IJointPreferenceScorer)pms[0].Model).ScoreTogether([.. pms.Select(p => p.Model)], seqs);
            Assert.Equal(Environment.ProcessorCount > 1, together is not null);
            var scores = Morlaif.Learning.Ppo.PrincipleScorer.ScoreAll(pms, seqs);
            for (var i = 0; i < pms.Count; i++) Assert.Equal(pms[i].Score(seqs), scores[i]);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void A_sampled_row_gets_the_tokens_it_would_get_if_no_row_left_the_batch()
    {
        // Rows that finish leave the batch; the reference keeps every row to the end, feeding finished ones as padding.
        var policy = Tiny.Policy(7, dModel: 32, layers: 2);
        using (no_grad())
        {
            // eos made likely (about one step in five, varying with the context), so that rows finish at different steps.
            var p = policy.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            var direction = zeros(32);
            direction[0] = 2f;
            p["trunk.ln_f.bias"].copy_(direction);
            p["lm_head.weight"][WordTokenizer.Eos].copy_(direction);
        }
        var prompts = Texts.Select(Tiny.Tokenizer.EncodePrompt).SelectMany(p => new[] { p, p, p }).ToList();
        using var g1 = new Generator(11);
        var sampled = Sampler.Generate(policy, prompts, maxNewTokens: 12, g1);
        using var g2 = new Generator(11);
        var reference = FullBatch(policy, prompts, 12, g2);
        Assert.Contains(sampled, r => r.Length < 12 && r[^1] == WordTokenizer.Eos); // some rows did finish early
        Assert.Equal(reference.Select(r => string.Join(',', r)), sampled.Select(r => string.Join(',', r)));
    }

    private static List<int[]> FullBatch(PolicyModel policy, List<int[]> prompts, int steps, Generator generator)
    {
        policy.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = SequenceBatch.LeftPadded(prompts);
        using var cache = new KvCache(policy.Config.Layers);
        var banned = zeros(policy.Config.VocabSize, ScalarType.Bool);
        foreach (var id in new[] { WordTokenizer.Pad, WordTokenizer.Bos, WordTokenizer.Sep, WordTokenizer.Unk }) banned[id] = true;
        var logits = policy.Logits(batch.Tokens, batch.Valid, cache)[.., -1];
        var done = zeros(prompts.Count, ScalarType.Bool);
        var rows = prompts.Select(_ => new List<int>()).ToList();
        for (var step = 0; step < steps; step++)
        {
            var next = logits.masked_fill(banned, float.NegativeInfinity).softmax(-1).multinomial(1, generator: generator).squeeze(1);
            var ids = next.data<long>().ToArray();
            var wasDone = done.data<bool>().ToArray();
            for (var i = 0; i < ids.Length; i++)
                if (!wasDone[i]) rows[i].Add((int)ids[i]);
            var fed = done.logical_not();
            done = done | next.eq(WordTokenizer.Eos);
            if (done.all().item<bool>()) break;
            logits = policy.Logits(next.unsqueeze(1), fed.unsqueeze(1), cache)[.., -1];
        }
        return [.. rows.Select(r => r.ToArray())];
    }
}
