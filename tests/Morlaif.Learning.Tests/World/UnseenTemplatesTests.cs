using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using TorchSharp;

namespace Morlaif.Learning.Tests.World;

/// <summary>The evaluation's unseen templates: new phrasings, never asked in training, of words the policy knows.</summary>
public class UnseenTemplatesTests
{
    private static IEnumerable<SyntheticPrompt> Unseen => Prompts.All.Values.Where(p => Catalog.UnseenTemplates[p.Intent].Any(t => Matches(t, p.Text)));

    private static bool Matches(string template, string text)
    {
        var pattern = "^" + System.Text.RegularExpressions.Regex.Escape(template).Replace(@"\{0}", "(.+)").Replace(@"\{1}", "(.+)") + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(text, pattern);
    }

    [Fact]
    public void Every_unseen_prompt_is_new_text_made_of_training_words()
    {
        var training = Catalog.AllTexts().ToHashSet();
        var words = training.SelectMany(t => t.Split(' ')).ToHashSet();
        var unseen = Unseen.ToList();
        Assert.Equal(Enum.GetValues<Intent>().Length, unseen.Select(p => p.Intent).Distinct().Count());
        Assert.All(unseen, p =>
        {
            Assert.DoesNotContain(p.Text, training);
            Assert.All(p.Text.Split(' '), w => Assert.Contains(w, words));
        });
        // No longer than the longest training prompt, so the config's context-length check still holds.
        var longest = training.Where(t => !Catalog.Sentences.ContainsKey(t)).Max(t => t.Split(' ').Length);
        Assert.All(unseen, p => Assert.True(p.Text.Split(' ').Length <= longest, p.Text));
    }

    [Fact]
    public void Training_never_asks_an_unseen_template_and_the_evaluation_asks_its_share()
    {
        var unseenTexts = Unseen.Select(p => p.Text).ToHashSet();
        var rng = new Random(7);
        Assert.DoesNotContain(Prompts.Sample(rng, 5000), p => unseenTexts.Contains(p.Text));

        var config = RunConfig.Parse("""{ "evaluation": { "prompts": 200, "unseenTemplates": 0.3, "samples": 3 } }""");
        var set = WorldEvaluation.Prompts(new WorldRun(config, torch.CPU));
        Assert.Equal((200, 60, 3, 600), (set.Prompts.Count, set.Unseen, set.Samples, set.Items.Count));
        // The others are the training templates' held-out combinations: no evaluation prompt is a training prompt.
        var heldOut = Prompts.Enumerate(PromptSet.HeldOut).Select(p => p.Text).ToHashSet();
        Assert.All(set.Prompts.Take(140), p => Assert.Contains(p.Text, heldOut));
        Assert.All(set.Prompts.Skip(140), p => Assert.Contains(p.Text, unseenTexts));
        Assert.All(set.UnseenItems, i => Assert.True(i / set.Samples >= 140, $"item {i} is of a seen prompt"));
        Assert.Equal(180, set.UnseenItems.Count());
    }

    [Theory]
    [InlineData("""{ "evaluation": { "samples": 0 } }""", "evaluation.samples")]
    [InlineData("""{ "evaluation": { "unseenTemplates": 1.5 } }""", "evaluation.unseenTemplates")]
    public void Bad_evaluation_fields_are_named(string json, string field)
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse(json));
        Assert.Contains($"'{field}'", e.Message);
    }
}
