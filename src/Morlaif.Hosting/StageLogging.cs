using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Morlaif.Hosting;

/// <summary>
/// Log lines that name what they are about: the stage record they were written for (the "Stage" scope the workers'
/// StageGate opens around a record's work), else the writer's short name, never its namespace. One format for the
/// console and for a run's log file: "12:04:31 info train-pm/helpfulness: run 2026...: epoch 1/3, loss 1.2179".
/// </summary>
public static class StageLogging
{
    public const string FormatterName = "morlaif", ScopeKey = "Stage";

    public static ILoggingBuilder AddStageConsole(this ILoggingBuilder logging) =>
        logging.AddConsole(o => o.FormatterName = FormatterName).AddConsoleFormatter<Formatter, ConsoleFormatterOptions>();

    /// <summary>Appends every line to <paramref name="path"/> (its folder is created).</summary>
    public static ILoggingBuilder AddStageFile(this ILoggingBuilder logging, string path)
    {
        logging.AddProvider(new FileProvider(path));
        return logging;
    }

    public static string Line(string category, LogLevel level, string message, Exception? error, IExternalScopeProvider? scopes)
    {
        string? stage = null;
        scopes?.ForEachScope((scope, _) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values)
                    if (key == ScopeKey) stage = value?.ToString();
        }, (object?)null);
        var about = stage ?? category[(category.LastIndexOf('.') + 1)..];
        var text = $"{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {Short(level)} {about}: {message}";
        return error is null ? text : text + Environment.NewLine + error;
    }

    private static string Short(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class Formatter() : ConsoleFormatter(FormatterName)
    {
        public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopes, TextWriter output) =>
            output.WriteLine(Line(entry.Category, entry.LogLevel, entry.Formatter(entry.State, entry.Exception), entry.Exception, scopes));
    }

    private sealed class FileProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly StreamWriter _file;
        private IExternalScopeProvider? _scopes;

        public FileProvider(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        }

        public ILogger CreateLogger(string category) => new FileLogger(this, category);

        public void SetScopeProvider(IExternalScopeProvider scopes) => _scopes = scopes;

        public void Dispose() => _file.Dispose();

        private sealed class FileLogger(FileProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes?.Push(state) ?? NullScope.Instance;

            public bool IsEnabled(LogLevel level) => level != LogLevel.None;

            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? error, Func<TState, Exception?, string> formatter)
            {
                var line = Line(category, level, formatter(state, error), error, provider._scopes);
                lock (provider._file) provider._file.WriteLine(line);
            }
        }

        private sealed class NullScope : IDisposable
        {
            public static readonly NullScope Instance = new();

            public void Dispose()
            {
            }
        }
    }
}
