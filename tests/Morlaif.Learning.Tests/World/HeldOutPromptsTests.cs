using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

/// <summary>The evaluation's held-out combinations: training templates and subjects it knows, never asked together in training.</summary>
public class HeldOutPromptsTests
{
    [Fact]
    public void A_quarter_of_the_training_templates_combinations_is_held_out_and_training_never_asks_one()
    {
        var training = Prompts.Enumerate(PromptSet.Training).Select(p => p.Text).ToList();
        var heldOut = Prompts.Enumerate(PromptSet.HeldOut).Select(p => p.Text).ToList();
        Assert.Equal((128, 44), (training.Count, heldOut.Count));
        Assert.Empty(training.Intersect(heldOut));
        // Every intent has held-out prompts, so the evaluation asks all six kinds.
        Assert.Equal(Enum.GetValues<Intent>().Length, Prompts.Enumerate(PromptSet.HeldOut).Select(p => p.Intent).Distinct().Count());

        // What SFT, the pairs and PPO draw: every training prompt, and never a held-out one.
        var drawn = Prompts.Sample(new Random(3), 20_000).Select(p => p.Text).ToHashSet();
        Assert.True(drawn.SetEquals(training), $"{drawn.Count} distinct drawn, {training.Count} training prompts");
        // And the evaluation's held-out draws: every held-out prompt, and nothing else.
        Assert.True(Prompts.Sample(new Random(4), 5_000, PromptSet.HeldOut).Select(p => p.Text).ToHashSet().SetEquals(heldOut));
    }

    [Fact]
    public void Every_template_subject_and_word_of_a_held_out_prompt_is_trained()
    {
        var training = Prompts.Enumerate(PromptSet.Training).ToList();
        var words = training.SelectMany(p => p.Text.Split(' ')).ToHashSet();
        foreach (var p in Prompts.Enumerate(PromptSet.HeldOut))
        {
            Assert.All(p.Text.Split(' '), w => Assert.Contains(w, words));
            // Its subject in training with another template.
            Assert.Contains(training, t => t.Intent == p.Intent && t.Subject == p.Subject && t.ClaimedWrong == p.ClaimedWrong);
        }
        // The world's vocabulary is built from every text the catalog can make, held out or not.
        Assert.Subset(Catalog.AllTexts().ToHashSet(), Prompts.Enumerate(PromptSet.HeldOut).Select(p => p.Text).ToHashSet());
    }
}
