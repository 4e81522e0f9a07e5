using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

public class SimulatedRatersTests
{
    [Fact]
    public void Two_raters_agree_about_as_often_as_hh_rlhf_crowdworkers()
    {
        // Two independent raters on 20,000 pairs of the demonstrator's responses (what the SFT policy imitates). Measured
        // when Beta was chosen: agreement 0.693, and a rater agrees with the noise-free truth on 0.778 of the pairs that
        // truth decides (beta 1.5: 0.655 / 0.742; beta 3: 0.747 / 0.827).
        var rng = new Random(21);
        int agree = 0, right = 0, decided = 0;
        for (var i = 0; i < 20000; i++)
        {
            var p = Prompts.Sample(rng);
            double a = GroundTruth.Score(Principle.Overall, p, Demonstrator.Respond(p, rng)), b = GroundTruth.Score(Principle.Overall, p, Demonstrator.Respond(p, rng));
            var first = SimulatedRaters.Rate(a, b, rng);
            if (first == SimulatedRaters.Rate(a, b, rng)) agree++;
            if (Math.Abs(a - b) > 1e-9) { decided++; if (first == a > b) right++; }
        }
        Assert.InRange(agree / 20000.0, 0.67, 0.72);
        Assert.InRange(right / (double)decided, 0.75, 0.80);
    }
}
