namespace Morlaif.Learning.Models;

/// <summary>
/// Independent passes run side by side on the cores torch's threads leave idle (the in-process world run gives each
/// stage one thread); where one pass already fills the cores they run one after another on the caller's thread, so no
/// pool thread grows native buffers of its own (a long-lived worker's memory stays bounded).
/// </summary>
public static class SideBySide
{
    /// <summary>How many passes fit at once: the cores over torch's threads per pass.</summary>
    public static int Width => Math.Max(1, Environment.ProcessorCount / Math.Max(1, TorchSharp.torch.get_num_threads()));

    /// <summary><paramref name="run"/> for 0..count-1, side by side where <see cref="Width"/> allows.</summary>
    public static void For(int count, Action<int> run)
    {
        var width = Width;
        if (width < 2)
            for (var i = 0; i < count; i++) run(i);
        else
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = width }, run);
    }
}
