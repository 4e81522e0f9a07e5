namespace Morlaif.Cli;

/// <summary>A usage error; the message is one line naming the option.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>"--name value" options (and the switches "--json", "--greedy" and "--dry-run"), checked against the command's known names, plus leading positional arguments.</summary>
public sealed class CliArguments
{
    private static readonly HashSet<string> Switches = ["json", "greedy", "dry-run"];
    private readonly Dictionary<string, string> _values;

    private CliArguments(Dictionary<string, string> values, List<string> positional)
    {
        _values = values;
        Positional = positional;
    }

    public IReadOnlyList<string> Positional { get; }

    public static CliArguments Parse(string[] args, IReadOnlyCollection<string> known, int positional = 0)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var pos = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                if (pos.Count >= positional) throw new UsageException($"unexpected argument '{name}'");
                pos.Add(name);
                continue;
            }
            if (!known.Contains(name[2..]))
                throw new UsageException($"unknown option '{name}' (known: {string.Join(", ", known.Select(k => "--" + k))})");
            string value;
            if (Switches.Contains(name[2..])) value = "true";
            else if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"option '{name}' needs a value");
            else value = args[++i];
            if (!values.TryAdd(name[2..], value)) throw new UsageException($"option '{name}' is given twice");
        }
        if (pos.Count < positional) throw new UsageException("a run id is required");
        return new CliArguments(values, pos);
    }

    public string? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>The first positional argument as a run id (status, replay, export), or one usage error.</summary>
    public string RunId() => Storage.RunIds.IsValid(Positional[0])
        ? Positional[0]
        : throw new UsageException($"run id '{Positional[0]}' is not valid (1-63 lowercase letters, digits and '-')");

    public bool Has(string name) => _values.ContainsKey(name);

    public long? GetLong(string name)
    {
        if (Get(name) is not { } text) return null;
        return long.TryParse(text, out var v) ? v : throw new UsageException($"option '--{name}': '{text}' is not an integer");
    }

    public double? GetDouble(string name)
    {
        if (Get(name) is not { } text) return null;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new UsageException($"option '--{name}': '{text}' is not a number");
    }
}
