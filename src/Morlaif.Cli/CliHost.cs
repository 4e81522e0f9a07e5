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
    public static IHost Build(IDictionary<string, string?> overrides, params string[] workers)
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
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.AddMorlaifDefaults(workers);
        return builder.Build();
    }
}
