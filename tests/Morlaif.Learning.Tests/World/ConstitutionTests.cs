using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

public class ConstitutionTests
{
    [Fact]
    public void Every_meaning_is_a_mixture_of_the_worlds_scorers_or_no_signal()
    {
        Assert.Equal(Constitution.Principles.Count, Constitution.Principles.Select(p => p.Name).Distinct().Count());
        foreach (var m in Constitution.Principles)
        {
            Assert.All(m.Mixture.Keys, s => Assert.NotNull(GroundTruth.Find(s)));
            if (m.Mixture.Count > 0) Assert.Equal(1.0, m.Mixture.Values.Sum(), 12);
        }
    }

    [Fact]
    public void A_matched_budget_judges_each_pair_on_distinct_principles_and_keeps_the_baselines_own_draw()
    {
        const int pairs = 500, draws = 7;
        // Each draw computed on its own, as each label record does, from the same two seeds.
        var drawn = Enumerable.Range(1, draws).Select(k => Constitution.Draw(new Random(3), new Random(4), pairs, k)).ToList();
        Assert.Equal(Constitution.Draw(new Random(3), pairs), drawn[0]);
        for (var i = 0; i < pairs; i++)
            Assert.Equal(draws, drawn.Select(d => d[i].Name).Distinct().Count());
        // Every principle turns up at every later draw: a uniform draw from the other 15, not a fixed order.
        Assert.All(drawn.Skip(1), d => Assert.Equal(Constitution.Principles.Count, d.Select(m => m.Name).Distinct().Count()));
        Assert.Throws<ArgumentOutOfRangeException>(() => Constitution.Draw(new Random(3), new Random(4), pairs, Constitution.Principles.Count + 1));
    }

    [Fact]
    public void Its_labels_follow_the_true_preference_less_often_than_the_oracles_and_more_often_than_chance()
    {
        // Pairs of the demonstrator's responses, labelled three ways by the same noisy judge: the constitution (one general
        // principle drawn per pair), the oracle "overall" question (the true preference) and a coin. Agreement with the
        // true preference over the decided labels.
        var rng = new Random(11);
        var judge = new SyntheticJudge();
        var drawn = Constitution.Draw(new Random(12), 4000);
        int constitutionRight = 0, constitutionDecided = 0, oracleRight = 0, oracleDecided = 0;
        for (var i = 0; i < drawn.Length; i++)
        {
            var p = Prompts.Sample(rng);
            ParsedResponse a = ParsedResponse.Parse(p, Demonstrator.Respond(p, rng)), b = ParsedResponse.Parse(p, Demonstrator.Respond(p, rng));
            var truth = GroundTruth.TruePreference(p, a) - GroundTruth.TruePreference(p, b);
            if (Math.Abs(truth) < 1e-9) continue;
            var c = judge.Label(Constitution.Score(drawn[i], p, a), Constitution.Score(drawn[i], p, b), rng);
            var o = judge.Label(GroundTruth.TruePreference(p, a), GroundTruth.TruePreference(p, b), rng);
            if (c.PreferA != 0.5) { constitutionDecided++; if (c.PreferA > 0.5 == truth > 0) constitutionRight++; }
            if (o.PreferA != 0.5) { oracleDecided++; if (o.PreferA > 0.5 == truth > 0) oracleRight++; }
        }
        double constitution = (double)constitutionRight / constitutionDecided, oracle = (double)oracleRight / oracleDecided;
        Assert.True(constitution > 0.6, $"constitution {constitution:F3}");
        Assert.True(oracle - constitution > 0.05, $"constitution {constitution:F3}, oracle {oracle:F3}");
    }

    [Fact]
    public void The_draws_cover_every_principle_and_depend_on_the_seed_alone()
    {
        var a = Constitution.Draw(new Random(3), 2000).Select(m => m.Name).ToList();
        Assert.Equal(a, Constitution.Draw(new Random(3), 2000).Select(m => m.Name));
        Assert.Equal(16, a.Distinct().Count());
        Assert.NotEqual(a, Constitution.Draw(new Random(4), 2000).Select(m => m.Name));
    }
}
