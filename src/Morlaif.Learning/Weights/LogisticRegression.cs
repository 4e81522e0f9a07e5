namespace Morlaif.Learning.Weights;

/// <summary>
/// Logistic regression without intercept, fitted by Newton's method (IRLS). The paper's fit is
/// unpenalised; a 1e-6 ridge only keeps the Hessian invertible when the data are separable.
/// </summary>
public static class LogisticRegression
{
    public static double[] Fit(IReadOnlyList<double[]> x, IReadOnlyList<double> y, int maxIterations = 100, double ridge = 1e-6)
    {
        if (x.Count == 0) throw new ArgumentException("no samples to fit", nameof(x));
        var k = x[0].Length;
        var beta = new double[k];
        for (var iter = 0; iter < maxIterations; iter++)
        {
            var grad = new double[k];
            var hess = new double[k, k];
            for (var n = 0; n < x.Count; n++)
            {
                var p = Sigmoid(Dot(x[n], beta));
                var w = p * (1 - p);
                for (var i = 0; i < k; i++)
                {
                    grad[i] += (y[n] - p) * x[n][i];
                    for (var j = 0; j < k; j++) hess[i, j] += w * x[n][i] * x[n][j];
                }
            }
            for (var i = 0; i < k; i++)
            {
                hess[i, i] += ridge * x.Count;
                grad[i] -= ridge * x.Count * beta[i];
            }
            var step = Solve(hess, grad);
            for (var i = 0; i < k; i++) beta[i] += step[i];
            if (step.Max(Math.Abs) < 1e-9) break;
        }
        return beta;
    }

    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Gaussian elimination with partial pivoting; a is k×k, b has length k (both copied).</summary>
    internal static double[] Solve(double[,] a, double[] b)
    {
        var k = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        for (var c = 0; c < k; c++)
        {
            var pivot = Enumerable.Range(c, k - c).MaxBy(r => Math.Abs(m[r, c]));
            if (Math.Abs(m[pivot, c]) < 1e-300) throw new InvalidOperationException("singular system in logistic regression");
            if (pivot != c)
            {
                for (var j = 0; j < k; j++) (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
                (v[c], v[pivot]) = (v[pivot], v[c]);
            }
            for (var r = c + 1; r < k; r++)
            {
                var f = m[r, c] / m[c, c];
                for (var j = c; j < k; j++) m[r, j] -= f * m[c, j];
                v[r] -= f * v[c];
            }
        }
        var result = new double[k];
        for (var r = k - 1; r >= 0; r--)
        {
            var s = v[r];
            for (var j = r + 1; j < k; j++) s -= m[r, j] * result[j];
            result[r] = s / m[r, r];
        }
        return result;
    }
}
