namespace Morlaif.Learning.Scalarization;

/// <summary>
/// Bernoulli-Nash welfare: the geometric mean of the weighted scores after shifting them to be positive,
/// R = (Π_i softplus(r~_i))^(1/n).
/// The paper's code returns the plain product Π r~_i. PM scores are signed logits, so that product
/// flips sign with the number of negative factors: two bad principles make a good reward, and raising
/// one score can lower the reward. softplus keeps every factor positive and strictly increasing in its
/// score, so R is monotone in every principle, and like the Nash product it still rewards balance
/// (a geometric mean is dragged down by its smallest factor). The n-th root (the docstring's intent)
/// keeps R on the scale of the scores whatever the number of principles.
/// </summary>
public sealed class BernoulliNash : IScalarizer
{
    public string Name => "bernoulli-nash";

    public double Combine(IReadOnlyList<double> weighted) =>
        Math.Exp(weighted.Select(r => Math.Log(Softplus(r))).Average());

    // log(1 + e^x) without overflow for large x.
    private static double Softplus(double x) => x > 30 ? x : Math.Log(1 + Math.Exp(x));
}
