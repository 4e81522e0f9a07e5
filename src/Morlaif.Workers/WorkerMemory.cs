using System.Globalization;
using System.Runtime.InteropServices;

namespace Morlaif.Workers;

/// <summary>
/// A long-lived worker's memory between stages. A tensor that a stage did not dispose holds native memory
/// the .NET collector cannot see: the managed heap stays small, so a collection may not come for many runs
/// while libtorch's memory piles up (measured here, ten small runs through the same processes: the PPO
/// learner 316 -> 518 MB, the labeller 216 -> 286 MB, still rising). So after every stage the worker
/// collects, runs the finalizers (which free those tensors), hands freed heap pages back to the system
/// (glibc's malloc_trim), and logs what it holds.
/// </summary>
public static class WorkerMemory
{
    /// <summary>Frees what the last stage left for the finalizers and returns the figures afterwards.</summary>
    public static string Release()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        // Aggressive: also gives back the free regions the collector keeps for its next allocations.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                MallocTrim(0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (musl, say): freed pages go back to the system when its allocator decides.
            }
        }
        return Now();
    }

    /// <summary>
    /// Sets glibc's allocator up; call before the process starts its threads.
    /// - At most two malloc arenas (M_ARENA_MAX). By default every thread that allocates may get its own (up to 8 per
    ///   core), and libtorch's and the thread pool's threads each leave their arena's high-water mark resident.
    /// - With <paramref name="keepFreedMemory"/> (the in-process run, which lives for one run), freed tensors stay in the
    ///   heap for the next step's (M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 512 MiB, M_TOP_PAD 64 MiB). By default a
    ///   buffer of a few MiB is mapped and unmapped on every step, and the page faults of mapping it again took a tenth
    ///   of the world's training time (perf here: 10-15% of SFT's CPU time). A long-lived worker keeps glibc's
    ///   defaults: what it holds between runs is bounded (WorkerMemoryTests), and it is not one run's speed that counts.
    /// </summary>
    public static void ConfigureAllocator(bool keepFreedMemory = false)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallOpt(-8, 2); // M_ARENA_MAX
            if (!keepFreedMemory) return;
            MallOpt(-3, 32 << 20); // M_MMAP_THRESHOLD (glibc's maximum on 64-bit)
            MallOpt(-1, 512 << 20); // M_TRIM_THRESHOLD
            MallOpt(-2, 64 << 20); // M_TOP_PAD
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    /// <summary>Resident set, managed heap, and TorchSharp's count of tensors made in managed code and not freed (for drift from run to run).</summary>
    public static string Now() => string.Create(CultureInfo.InvariantCulture,
        $"RSS {ResidentMb():F0} MB, managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MB ({GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F0} MB committed), tensors {TorchSharp.torch.Tensor.TotalCount}");

    private static double ResidentMb() => ResidentBytes() / 1048576.0;

    /// <summary>The resident set (VmRSS) where /proc has it, else the working set.</summary>
    public static long ResidentBytes() =>
        File.Exists("/proc/self/status")
            ? File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).FirstOrDefault()
            : Environment.WorkingSet;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
