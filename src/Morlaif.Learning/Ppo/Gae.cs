namespace Morlaif.Learning.Ppo;

/// <summary>Generalised advantage estimation over one response (the value after the last token is 0).</summary>
public static class Gae
{
    public static (double[] Advantages, double[] Returns) Compute(IReadOnlyList<double> rewards, IReadOnlyList<double> values, double gamma, double lambda)
    {
        var n = rewards.Count;
        var adv = new double[n];
        double next = 0, nextValue = 0;
        for (var t = n - 1; t >= 0; t--)
        {
            var delta = rewards[t] + gamma * nextValue - values[t];
            next = delta + gamma * lambda * next;
            adv[t] = next;
            nextValue = values[t];
        }
        return (adv, adv.Select((a, t) => a + values[t]).ToArray());
    }
}
