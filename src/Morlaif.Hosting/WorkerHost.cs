using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;

namespace Morlaif.Hosting;

/// <summary>The worker hosts' builder.</summary>
public static class WorkerHost
{
    /// <summary>
    /// The generic host's defaults (appsettings.json, appsettings.{Environment}.json, environment variables,
    /// command line), with the content root at the app's own folder: its appsettings.json, with the local
    /// servers' connection strings, is found whatever the working directory (`dotnet run --project
    /// services/X` from the repository root runs in the root).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        Workers.WorkerMemory.ConfigureAllocator();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // Lines that name the stage they are about, not the class that wrote them.
        builder.Logging.ClearProviders().AddStageConsole();
        return builder;
    }
}
