using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Morlaif.Hosting;

namespace Morlaif.Cli;

/// <summary>
/// The generic host the commands run in: appsettings.json next to the binary, then environment variables
/// (ConnectionStrings__rabbitmq, ConnectionStrings__blobs, Morlaif__*), then the command's own overrides.
/// </summary>
public static class CliHost
{
    public static IHost Build(IDictionary<string, string?> overrides, params string[] workers) => Build(overrides, new CliLogging(), workers);

    /// <param name="logging">where the log goes: the console, a file (the run's log beside its report), or both</param>
    public static IHost Build(IDictionary<string, string?> overrides, CliLogging logging, params string[] workers)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (logging.Console) builder.Logging.AddStageConsole();
        if (logging.File is { } file) builder.Logging.AddStageFile(file);
        builder.AddMorlaifDefaults(workers);
        return builder.Build();
    }
}

/// <summary>Where a command's log goes.</summary>
public sealed record CliLogging(bool Console = true, string? File = null);
