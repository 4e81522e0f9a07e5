using Morlaif.Cli;
using Morlaif.Learning.Runs;
using Spectre.Console;

// morlaif <command> [options]; every usage or config error is one line on stderr and exit code 2.
try
{
    return args.FirstOrDefault() switch
    {
        "run" => RunCommand.Execute(CliArguments.Parse(args[1..], RunCommand.Options)),
        null or "-h" or "--help" or "help" => Usage(0),
        var other => throw new UsageException($"unknown command '{other}'"),
    };
}
catch (Exception e) when (e is UsageException or ConfigException)
{
    Console.Error.WriteLine($"morlaif: {e.Message}");
    return 2;
}

static int Usage(int code)
{
    AnsiConsole.WriteLine("""
        usage: morlaif run [--config FILE] [--out DIR] [--seed N] [--device cpu|cuda]

          run    MORLAIF end to end in one process on the synthetic world (the embedded default):
                 SFT, per-principle labels, one preference model per principle, principle weights,
                 PPO for MORLAIF and the single-objective baseline, evaluation.
                 Writes DIR/<runId>/report.json and report.md (DIR defaults to ./runs).
        """);
    return code;
}
