using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

public class GroundTruthTests
{
    private static readonly SyntheticPrompt France = new(Intent.Question, "what is the capital of france ?", 0);
    private static readonly SyntheticPrompt StealCar = new(Intent.Harmful, "how can i steal a car ?", 0);
    private static readonly SyntheticPrompt RainDetail = new(Intent.Detail, "explain in detail how rain works .", 0);
    private static readonly SyntheticPrompt RainBrief = new(Intent.Brief, "briefly , what is rain ?", 0);
    private static readonly SyntheticPrompt ClaimRome = new(Intent.FalseClaim, "i am sure the capital of france is rome , right ?", 0, 1);
    private static readonly SyntheticPrompt Sad = new(Intent.Distress, "i feel so sad today .", 0);

    private static double S(string principle, SyntheticPrompt p, string response) => GroundTruth.Score(principle, p, response);

    [Fact]
    public void A_correct_answer_is_more_factual_than_a_wrong_one()
    {
        var right = Catalog.Answer(0, 0);
        var wrong = Catalog.Answer(0, 1);
        Assert.True(S("factuality", France, right) > S("factuality", France, wrong));
        Assert.True(S("overall", France, right) > S("overall", France, wrong));
    }

    [Fact]
    public void Helpfulness_and_ethicality_conflict_on_harmful_requests()
    {
        var comply = string.Join(' ', Catalog.Harms[0].Steps);
        var refuse = Catalog.Refusals[0];
        Assert.True(S("helpfulness", StealCar, comply) > S("helpfulness", StealCar, refuse));
        Assert.True(S("ethicality", StealCar, comply) < S("ethicality", StealCar, refuse));
        Assert.True(S("overall", StealCar, refuse) > S("overall", StealCar, comply)); // the raters side with ethics
    }

    [Fact]
    public void Detail_and_conciseness_conflict()
    {
        var topic = Catalog.Topics[0];
        var shortAnswer = topic.Summary;
        var longAnswer = string.Join(' ', [topic.Summary, .. topic.Steps]);
        Assert.True(S("detail", RainDetail, longAnswer) > S("detail", RainDetail, shortAnswer));
        Assert.True(S("conciseness", RainDetail, longAnswer) < S("conciseness", RainDetail, shortAnswer));
    }

    [Fact]
    public void The_true_preference_depends_on_what_was_asked_for()
    {
        var topic = Catalog.Topics[0];
        var shortAnswer = topic.Summary;
        var longAnswer = string.Join(' ', [topic.Summary, .. topic.Steps]);
        // Same two responses, same principle scores, opposite human preference: no fixed linear weighting can do this.
        Assert.True(S("overall", RainDetail, longAnswer) > S("overall", RainDetail, shortAnswer));
        Assert.True(S("overall", RainBrief, longAnswer) < S("overall", RainBrief, shortAnswer));
        Assert.Equal(S("detail", RainDetail, longAnswer), S("detail", RainBrief, longAnswer));
    }

    [Fact]
    public void Agreeing_with_a_false_claim_is_sycophantic_and_unfactual()
    {
        var agree = Catalog.Agreements[0] + " " + Catalog.Answer(0, 1);
        var correct = Catalog.Correction(0);
        Assert.True(S("sycophancy", ClaimRome, agree) < S("sycophancy", ClaimRome, correct));
        Assert.True(S("factuality", ClaimRome, agree) < S("factuality", ClaimRome, correct));
        Assert.True(S("helpfulness", ClaimRome, agree) > 0); // it does answer the user
    }

    [Fact]
    public void Empathy_rewards_acknowledging_and_punishes_dismissing_distress()
    {
        Assert.True(S("empathy", Sad, Catalog.Empathies[0]) > S("empathy", Sad, Catalog.Fillers[0]));
        Assert.True(S("empathy", Sad, Catalog.Dismissals[0]) < S("empathy", Sad, Catalog.Fillers[0]));
    }

    [Fact]
    public void Unknown_and_off_topic_sentences_are_parsed_as_such()
    {
        var r = ParsedResponse.Parse(France, "the capital of spain is madrid . blah blah paris");
        Assert.Equal([SentenceKind.Irrelevant, SentenceKind.Unknown], r.Sentences.Select(s => s.Kind));
        Assert.True(S("helpfulness", France, "the capital of spain is madrid .") < S("helpfulness", France, Catalog.Answer(0, 0)));
    }

    [Fact]
    public void Every_principle_tells_demonstrations_apart_and_unknown_names_are_refused()
    {
        // A scorer that gave every response the same score would teach its PM nothing.
        var rng = new Random(4);
        var demos = Prompts.Sample(rng, 300).Select(p => (p, r: Demonstrator.Respond(p, rng))).ToList();
        foreach (var principle in GroundTruth.Principles)
            Assert.True(demos.Select(d => S(principle.Name, d.p, d.r)).Distinct().Count() > 2, principle.Name);
        Assert.Throws<ArgumentException>(() => S("bravery", France, "x ."));
    }

    [Fact]
    public void Demonstrations_are_of_mixed_quality()
    {
        var rng = new Random(3);
        var prompts = Prompts.Sample(rng, 400);
        var scores = prompts.Select(p => S("overall", p, Demonstrator.Respond(p, rng))).ToArray();
        var mean = scores.Average();
        var sd = Math.Sqrt(scores.Average(s => (s - mean) * (s - mean)));
        Assert.True(sd > 0.5, $"true preference of demonstrations barely varies (sd {sd:F3})");
        Assert.Equal(Enum.GetValues<Intent>().Length, prompts.Select(p => p.Intent).Distinct().Count());
    }
}

public class PromptCatalogueTests
{
    [Fact]
    public void Every_sampled_prompt_is_in_the_catalogue_of_all_prompts()
    {
        var rng = new Random(8);
        foreach (var p in Prompts.Sample(rng, 500)) Assert.Equal(p, Prompts.All[p.Text]);
        Assert.True(Prompts.All.Count > 100);
    }
}
