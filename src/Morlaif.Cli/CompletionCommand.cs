using System.CommandLine;

namespace Morlaif.Cli;

/// <summary>
/// morlaif completion bash: a bash completion script. It asks this binary through System.CommandLine's own
/// `[suggest]` directive, so completions (commands, options, their accepted values) come from the same definitions
/// that parse them.
/// </summary>
public static class CompletionCommand
{
    private static readonly Argument<string> Shell = new Argument<string>("shell") { Description = "the shell to complete in" }.Only("bash");

    public static Command Create() => CliOptions.Command("completion",
        "Prints a completion script for the shell; source it (e.g. in ~/.bashrc: source <(morlaif completion bash)), with `morlaif` on the PATH.",
        "morlaif completion bash > ~/.morlaif-completion.bash", [Shell], (_, _) =>
        {
            Console.Write(Script(Path.Combine(AppContext.BaseDirectory, "morlaif")));
            return Task.FromResult(0);
        });

    /// <summary>The bash script: the line up to the cursor goes to <paramref name="morlaif"/>'s suggest directive.</summary>
    public static string Script(string morlaif) => $$"""
        # morlaif completion for bash, printed by `morlaif completion bash`
        _morlaif_complete() {
            local IFS=$'\n' line="${COMP_LINE:0:COMP_POINT}"
            # The parser suggests every name that contains the word; bash offers those that start with it.
            COMPREPLY=( $(compgen -W "$('{{morlaif}}' "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${line##* }") )
        }
        complete -o default -F _morlaif_complete morlaif

        """;
}
