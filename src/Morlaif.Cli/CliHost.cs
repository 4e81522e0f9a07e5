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

    /// <summary>--transport and --storage, when given, override configuration.</summary>
    public static Dictionary<string, string?> Overrides(CliArguments args)
    {
        var o = new Dictionary<string, string?>();
        if (args.Get("transport") is { } t)
            o["Morlaif:Transport"] = t is "rabbitmq" or "inmemory" ? t : throw new UsageException($"option '--transport': '{t}' is not rabbitmq or inmemory");
        if (args.Get("storage") is { } s)
            o["Morlaif:Storage"] = s is "azure" or "local" ? s : throw new UsageException($"option '--storage': '{s}' is not azure or local");
        if (args.Get("store") is { } root) o["Morlaif:LocalRoot"] = Path.GetFullPath(root);
        return o;
    }
}
