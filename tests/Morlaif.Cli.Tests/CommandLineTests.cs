using System.CommandLine;

namespace Morlaif.Cli.Tests;

/// <summary>The command line as System.CommandLine parses it: help from the commands' own symbols, one-line usage errors.</summary>
public class CommandLineTests
{
    [Fact]
    public void Every_command_has_help_naming_each_of_its_options_and_an_example()
    {
        var root = MorlaifCommands.Root();
        var (exit, stdout, _) = MorlaifProcess.Run("--help");
        Assert.Equal(0, exit);
        Assert.All(root.Subcommands, c => Assert.Contains($"  {c.Name} ", stdout));
        Assert.True(stdout.Split('\n').Length <= 30, $"morlaif --help is {stdout.Split('\n').Length} lines:\n{stdout}");
        foreach (var command in root.Subcommands)
        {
            (exit, stdout, var stderr) = MorlaifProcess.Run(command.Name, "--help");
            Assert.True(exit == 0, $"{command.Name} --help: {exit} {stderr}");
            Assert.All(command.Options, o => Assert.Contains(o.Name, stdout));
            Assert.Contains($"Example:\n  morlaif {command.Name} ", stdout);
        }
    }

    [Fact]
    public void Unknown_options_missing_values_and_bad_choices_are_one_line_errors_naming_the_option()
    {
        foreach (var (args, named) in new (string[], string)[]
        {
            (["run", "--bogus"], "--bogus"),
            (["run", "--config"], "--config"),
            (["run", "--device", "tpu"], "--device"),
            (["replay", "r1", "--stage", "frobnicate"], "--stage"),
            (["replay", "r1"], "--stage"),
            (["status", "Not_An_Id"], "Not_An_Id"),
            (["sft", "--model", "m", "--data", "d", "--out", "o", "--epochs", "0"], "--epochs"),
            (["generate", "--model", "m"], "--prompt"),
        })
        {
            var parsed = MorlaifCommands.Root().Parse(args);
            Assert.NotEmpty(parsed.Errors);
            var line = CliOptions.OneLine(parsed.Errors, args);
            Assert.DoesNotContain('\n', line);
            Assert.Contains(named, line);
        }
        // And through the real command: exit code 2, that line alone on stderr, nothing on stdout.
        var (exit, stdout, stderr) = MorlaifProcess.Run("replay", "r1", "--stage", "frobnicate");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Matches("^morlaif: [^\n]*--stage[^\n]*\n$", stderr);
    }
}
