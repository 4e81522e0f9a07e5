using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Training;
using Morlaif.Learning.World;
using TorchSharp;

namespace Morlaif.Learning.Tests.Stages;

// Stages hand their results to the next stage as bytes (a worker on another machine reads them back),
// so every artifact must survive the trip unchanged.
public class StageArtifactTests
{
    private static readonly WorldRun Ctx = new(RunConfig.Parse("""{ "model": { "dModel": 32, "layers": 1, "heads": 2 } }"""), torch.CPU);

    private static PairSet<SyntheticPrompt> SomePairs()
    {
        var rng = new Random(21);
        ResponsePair<SyntheticPrompt> Make()
        {
            var p = Prompts.Sample(rng);
            string a = Demonstrator.Respond(p, rng), b = Demonstrator.Respond(p, rng) + " " + Catalog.Fillers[0];
            return new ResponsePair<SyntheticPrompt>(p, Ctx.Conversation(p), Ctx.Tokenizer.EncodePrompt(p.Text), [.. Ctx.Tokenizer.Encode(a), 3], [.. Ctx.Tokenizer.Encode(b), 3], a, b);
        }
        List<ResponsePair<SyntheticPrompt>> Many(int n) => [.. Enumerable.Range(0, n).Select(_ => Make())];
        return new PairSet<SyntheticPrompt>(Many(30), Many(10), Many(8), Many(12));
    }

    [Fact]
    public void Pairs_and_labels_round_trip_through_json()
    {
        var pairs = SomePairs();
        var back = PairSet<SyntheticPrompt>.FromJson(pairs.ToJson());
        Assert.Equal(pairs.Train.Count, back.Train.Count);
        Assert.Equal(pairs.Test.Count, back.Test.Count);
        Assert.Equal((8, 12), (back.Human.Count, back.Accuracy.Count));
        foreach (var (a, b) in pairs.Train.Concat(pairs.Test).Concat(pairs.Human).Concat(pairs.Accuracy).Zip(back.Train.Concat(back.Test).Concat(back.Human).Concat(back.Accuracy)))
        {
            Assert.Equal(a.Prompt, b.Prompt);
            Assert.Equal(a.PromptIds, b.PromptIds);
            Assert.Equal(a.A, b.A);
            Assert.Equal(a.B, b.B);
            Assert.Equal(a.TextA, b.TextA);
            Assert.Equal(a.TextB, b.TextB);
        }
        var labels = LabellingStage.Label(Ctx, pairs, "conciseness");
        var labelsBack = LabelSet.FromJson(labels.ToJson());
        Assert.Equal(labels.Question, labelsBack.Question);
        Assert.Equal(labels.Train, labelsBack.Train);
        Assert.Equal(labels.Test, labelsBack.Test);
    }

    [Fact]
    public void Labels_of_a_question_do_not_depend_on_the_other_questions()
    {
        var pairs = SomePairs();
        var alone = LabellingStage.Label(Ctx, pairs, "detail");
        _ = LabellingStage.Label(Ctx, pairs, "helpfulness");
        Assert.Equal(alone.Train, LabellingStage.Label(Ctx, pairs, "detail").Train);
        Assert.NotEqual(alone.Train, LabellingStage.Label(Ctx, pairs, "conciseness").Train);
    }

    [Fact]
    public void A_trained_preference_model_round_trips_with_its_normalisation()
    {
        var pairs = SomePairs();
        var sft = Ctx.NewPolicy();
        var labels = LabellingStage.Label(Ctx, pairs, "conciseness");
        var pm = PreferenceModelStage.Train(Ctx, sft, pairs, "conciseness", [labels]);
        var back = TrainedPreferenceModel.FromBytes(pm.ToBytes(), Ctx);
        Assert.Equal(pm.Question, back.Question);
        Assert.Equal(pm.Normalizer, back.Normalizer);
        Assert.Equal(pm.Stats, back.Stats);
        Assert.Equal(pm.Stats, TrainedPreferenceModel.StatsFromBytes(pm.ToBytes()));
        var seqs = pairs.Test.Select(p => p.SequenceA()).ToList();
        Assert.Equal(pm.Model.ScoreAll(seqs), back.Model.ScoreAll( seqs));
        var e = Assert.Throws<InvalidDataException>(() => TrainedPreferenceModel.FromBytes(new byte[] { 1, 2, 3, 4 }, Ctx));
        Assert.Contains("not a MORLAIF preference-model checkpoint", e.Message);
    }

    [Fact]
    public void An_objective_fit_round_trips_through_json()
    {
        var fit = new ObjectiveFit(["a", "b"], [0.5, -0.25], [1.0, -0.5],
            new Dictionary<string, double> { ["linear"] = 0.7, ["single"] = 0.65 }, [new AblationPoint(2, 0.7, 0.7, 0.7), new AblationPoint(1, 0.6, 0.55, 0.65)], 8, 12);
        var back = ObjectiveFit.FromJson(fit.ToJson());
        Assert.Equal(fit.Principles, back.Principles);
        Assert.Equal(fit.Weights, back.Weights);
        Assert.Equal(fit.StandardizedCoefficients, back.StandardizedCoefficients);
        Assert.Equal(fit.Accuracy, back.Accuracy);
        Assert.Equal(fit.Ablation.Select(x => (string.Join(',', x.Principles), x.Accuracy)), back.Ablation.Select(x => (string.Join(',', x.Principles), x.Accuracy)));
    }
}
