using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Morlaif.Storage;

namespace Morlaif.Cli;

/// <summary>A usage error found by a command itself (one option against another, a value the parser cannot judge); one line naming the option.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The options several commands take, made for each command that declares them (help lists them with it).</summary>
public static partial class CliOptions
{
    public static Option<string?> Config(string description) => new("--config") { Description = description, HelpName = "FILE" };

    public static Option<long?> Seed(string description) => new("--seed") { Description = description, HelpName = "N" };

    public static Option<string> Device() =>
        new Option<string>("--device") { Description = "where the models compute (cuda needs a CUDA build)", DefaultValueFactory = _ => "cpu" }.Only("cpu", "cuda");

    public static Option<bool> DryRun() =>
        new("--dry-run") { Description = "check the config and its inputs (a text run's: models, data, costs); start nothing" };

    public static Option<bool> Verbose() =>
        new("--verbose") { Description = "the workers' log on the console too (it always goes to the log file beside the results)" };

    public static Option<string?> Out(string description, bool required = false) =>
        new("--out") { Description = description, HelpName = "DIR", Required = required };

    public static Option<bool> Json(string description) => new("--json") { Description = description };

    /// <summary>The run id argument of status, lineage, replay and export, checked by the parser; <paramref name="optional"/>: it may be left out.</summary>
    public static Argument<string> RunId(bool optional = false, string description = "the run's id, as `morlaif run` or `morlaif start` printed it")
    {
        var argument = new Argument<string>("RUNID") { Description = description };
        if (optional) argument.Arity = ArgumentArity.ZeroOrOne;
        argument.Validators.Add(result =>
        {
            if (optional && result.Tokens.Count == 0) return;
            var id = result.GetValueOrDefault<string>();
            if (!RunIds.IsValid(id)) result.AddError($"run id '{id}' is not valid (1-63 lowercase letters, digits and '-')");
        });
        return argument;
    }

    /// <summary>The option accepts only <paramref name="values"/> (listed in its help).</summary>
    public static Option<T> Only<T>(this Option<T> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>The argument accepts only <paramref name="values"/> (listed in its help).</summary>
    public static Argument<T> Only<T>(this Argument<T> argument, params string[] values)
    {
        argument.AcceptOnlyFromAmong(values);
        return argument;
    }

    /// <summary>Each command's example, printed after its help.</summary>
    public static readonly Dictionary<Command, string> Examples = [];

    /// <summary>A command with its options, arguments, action and example.</summary>
    public static Command Command(string name, string description, string example, IEnumerable<Symbol> symbols, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        var command = new Command(name, description);
        Examples[command] = example;
        foreach (var symbol in symbols)
        {
            if (symbol is Option option) command.Options.Add(option);
            else if (symbol is Argument argument) command.Arguments.Add(argument);
        }
        command.SetAction(action);
        return command;
    }

    /// <summary>
    /// The parse error to report, as one line: the one about a word the user typed (an unknown command, option or
    /// value) before a consequence of it, with the option it concerns and without the parser's line breaks or CLR type names.
    /// </summary>
    public static string OneLine(IReadOnlyList<ParseError> errors, IReadOnlyList<string> args)
    {
        var error = errors.FirstOrDefault(e => args.Any(a => e.Message.Contains($"'{a}'", StringComparison.Ordinal))) ?? errors[0];
        var message = string.Join(" ", error.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        message = TypeName().Replace(message, m => m.Groups["type"].Value is "Double" or "Single" ? "as a number" : "as an integer");
        var name = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        return name is null || message.Contains(name, StringComparison.Ordinal) ? message : $"option '{name}': {message}";
    }

    [GeneratedRegex(@"as expected type '(System\.Nullable`1\[)?System\.(?<type>\w+)\]?'")]
    private static partial Regex TypeName();
}

/// <summary>--transport, --storage and --store: the servers a command reaches (start, status, replay, export); configuration otherwise.</summary>
internal sealed class ServerOptions(bool transport)
{
    private readonly Option<string?> _transport =
        new Option<string?>("--transport") { Description = "the broker (default: appsettings.json and the environment: RabbitMQ)" }.Only("rabbitmq", "inmemory");

    private readonly Option<string?> _storage =
        new Option<string?>("--storage") { Description = "where runs are stored (default: appsettings.json and the environment: Azure Blob Storage)" }.Only("azure", "local");

    private readonly Option<string?> _store = new("--store") { Description = "the local store's folder, with --storage local", HelpName = "DIR" };

    public IEnumerable<Symbol> Symbols => transport ? [_transport, _storage, _store] : [_storage, _store];

    /// <summary>The host configuration the options given override.</summary>
    public Dictionary<string, string?> Overrides(ParseResult r)
    {
        var o = new Dictionary<string, string?>();
        if (transport && r.GetValue(_transport) is { } t) o["Morlaif:Transport"] = t;
        if (r.GetValue(_storage) is { } s) o["Morlaif:Storage"] = s;
        if (r.GetValue(_store) is { } root) o["Morlaif:LocalRoot"] = Path.GetFullPath(root);
        return o;
    }
}
