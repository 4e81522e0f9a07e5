namespace Morlaif.Learning.Scalarization;

/// <summary>
/// Combines the weighted per-principle scores r~_i = w_i * r_i of one response into the single reward
/// PPO optimises (METHOD.md, stage 4).
/// </summary>
public interface IScalarizer
{
    /// <summary>The name used in config and reports.</summary>
    string Name { get; }

    double Combine(IReadOnlyList<double> weighted);
}
