namespace Morlaif.Learning;

/// <summary>
/// Deterministic seed derivation. Every random stream of a run is seeded from the run's seed and a
/// purpose, so a rerun (or a restarted worker) draws the same numbers. string.GetHashCode and
/// HashCode.Combine are randomised per process and must never be used for this.
/// </summary>
public static class Seeds
{
    /// <summary>A 31-bit seed (usable by System.Random) from a base seed and any number of parts.</summary>
    public static int Derive(long seed, params object[] parts)
    {
        var h = SplitMix((ulong)seed);
        foreach (var part in parts)
            h = SplitMix(h ^ (part is string s ? Fnv1a(s) : (ulong)Convert.ToInt64(part, System.Globalization.CultureInfo.InvariantCulture)));
        return (int)(h & 0x7FFF_FFFF);
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static ulong Fnv1a(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s) h = (h ^ c) * 1099511628211UL;
        return h;
    }
}
