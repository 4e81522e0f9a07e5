using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Training;

public class BradleyTerryTests
{
    private static (float GradA, float GradB, float Loss) Grad(float rA, float rB, float preferA, float margin)
    {
        var a = tensor(new[] { rA }, requires_grad: true);
        var b = tensor(new[] { rB }, requires_grad: true);
        var loss = PreferenceModelTraining.BradleyTerryLoss(a, b, tensor(new[] { preferA }), tensor(new[] { margin }));
        loss.backward();
        return (a.grad!.item<float>(), b.grad!.item<float>(), loss.item<float>());
    }

    [Fact]
    public void Gradient_descent_raises_the_chosen_score_and_lowers_the_rejected_one()
    {
        var (ga, gb, _) = Grad(0.3f, 0.1f, preferA: 1, margin: 0);
        Assert.True(ga < 0); // a step against the gradient increases r_A
        Assert.True(gb > 0);
        var (ga2, gb2, _) = Grad(0.3f, 0.1f, preferA: 0, margin: 0);
        Assert.True(ga2 > 0 && gb2 < 0);
    }

    [Fact]
    public void The_loss_is_the_papers_minus_log_sigmoid_with_margin()
    {
        var (_, _, loss) = Grad(2.0f, 0.5f, preferA: 1, margin: 1.0f);
        Assert.Equal(-Math.Log(1 / (1 + Math.Exp(-(2.0 - 0.5 - 1.0)))), loss, 5); // -log σ(0.5) = 0.474077
    }

    [Fact]
    public void A_margin_keeps_pushing_pairs_that_are_already_ordered()
    {
        var (noMargin, _, _) = Grad(1.5f, 0f, 1, 0);
        var (withMargin, _, _) = Grad(1.5f, 0f, 1, 3);
        Assert.True(Math.Abs(withMargin) > Math.Abs(noMargin));
    }

    [Fact]
    public void A_tie_pulls_the_two_scores_together()
    {
        var (ga, gb, _) = Grad(1.0f, -1.0f, preferA: 0.5f, margin: 0);
        Assert.True(ga > 0 && gb < 0); // descending lowers r_A and raises r_B
        var (g0a, g0b, _) = Grad(0.7f, 0.7f, 0.5f, 0);
        Assert.Equal(0, g0a, 6);
        Assert.Equal(0, g0b, 6);
    }
}
