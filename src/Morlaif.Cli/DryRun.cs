using Morlaif.Learning.Runs;
using Morlaif.Workers.Backends;

namespace Morlaif.Cli;

/// <summary>
/// `--dry-run` on start and run: the config and its inputs are read and checked as the run would read them, and what
/// the run would cost is printed; nothing is stored, published or computed.
/// </summary>
internal static class DryRun
{
    /// <summary>The inputs are read and checked before anything is started or stored (the run reads them again to store them).</summary>
    public static void Check(RunConfig config) => RunTasks.For(config).Check(config);

    /// <summary>Prints the check and the costs; 0 when the config can run.</summary>
    public static int Print(RunConfig config)
    {
        RunTasks.For(config).DryRun(config, Console.Out);
        return 0;
    }
}
