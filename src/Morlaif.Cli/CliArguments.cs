namespace Morlaif.Cli;

/// <summary>A usage error; the message is one line naming the option.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>"--name value" options, checked against the command's known names.</summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string> _values;

    private CliArguments(Dictionary<string, string> values) => _values = values;

    public static CliArguments Parse(string[] args, IReadOnlyCollection<string> known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !known.Contains(name[2..]))
                throw new UsageException($"unknown option '{name}' (known: {string.Join(", ", known.Select(k => "--" + k))})");
            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"option '{name}' needs a value");
            if (!values.TryAdd(name[2..], args[++i])) throw new UsageException($"option '{name}' is given twice");
        }
        return new CliArguments(values);
    }

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public long? GetLong(string name)
    {
        if (Get(name) is not { } text) return null;
        return long.TryParse(text, out var v) ? v : throw new UsageException($"option '--{name}': '{text}' is not an integer");
    }
}
