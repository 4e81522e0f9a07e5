using System.CommandLine;

namespace Morlaif.Cli;

/// <summary>The `morlaif` command line: every command, its options and its action (Program parses and invokes it).</summary>
public static class MorlaifCommands
{
    public static RootCommand Root() => new("""
        MORLAIF: multi-objective RL from AI feedback, as an event-driven pipeline.

        Connection strings: ConnectionStrings__rabbitmq, ConnectionStrings__blobs (default: the local servers of
        infra/local.sh).
        Exit codes: 0 done; 1 the run faulted; 2 a usage or input error (option, config, dataset, run id); 3 a server
        (RabbitMQ or blob storage) is unreachable or refuses the credentials; 130 interrupted.
        """)
    {
        RunCommand.Create(), StartCommand.Create(), StatusCommand.Create(), LineageCommand.Create(), ReplayCommand.Create(), LabelCommand.Create(),
        GenerateCommand.Create(), SftCommand.Create(), ExportCommand.Create(), ExperimentCommand.Create(), CompletionCommand.Create(),
    };
}
