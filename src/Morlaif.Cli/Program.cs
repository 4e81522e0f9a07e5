using System.CommandLine;
using Morlaif.Cli;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Spectre.Console;

// morlaif <command> [options]: the commands and their options are System.CommandLine symbols, so `--help` lists exactly
// what each command accepts. Every usage or input error is one line on stderr and exit code 2, a server (RabbitMQ, blob
// storage) that cannot be reached one line and exit code 3.
// Output to a file, a pipe or CI has no width: Spectre would draw tables 80 columns wide and break names mid-word.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;
var root = MorlaifCommands.Root();
var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"morlaif: {CliOptions.OneLine(parsed.Errors, args)}");
    return 2;
}
try
{
    // The commands handle their own errors below and Ctrl+C through their host, which stops its workers cleanly.
    var exit = await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    if (parsed.Action is System.CommandLine.Help.HelpAction && CliOptions.Examples.TryGetValue(parsed.CommandResult.Command, out var example))
        Console.WriteLine($"Example:\n  {example}\n");
    return exit;
}
catch (Exception e) when (e is UsageException or ConfigException or RunNotFoundException or Morlaif.Feedback.Datasets.DatasetException)
{
    Console.Error.WriteLine($"morlaif: {e.Message}");
    return 2;
}
catch (Morlaif.Hosting.ServerUnreachableException e)
{
    Console.Error.WriteLine($"morlaif: {e.Message}");
    return 3;
}
