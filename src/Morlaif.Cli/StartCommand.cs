using Microsoft.Extensions.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Cli;

/// <summary>
/// morlaif start: stores the config, creates the manifest and publishes RunStarted to the broker; prints the run id last.
/// Blob storage and the broker are checked first; a start that still cannot be published takes its manifest back.
/// </summary>
public static class StartCommand
{
    public static readonly string[] Options = ["dry-run", "config", "seed", "transport", "storage", "store", "run-id"];

    public static async Task<int> Execute(CliArguments args)
    {
        var config = args.Get("config") is { } path ? RunConfig.Load(path) : new RunConfig();
        if (args.GetLong("seed") is { } seed) config = config.WithSeed(seed);
        if (args.Has("dry-run")) return DryRun.Print(config);
        DryRun.Check(config);
        var overrides = CliHost.Overrides(args);
        if (overrides.GetValueOrDefault("Morlaif:Transport") == "inmemory")
            throw new UsageException("option '--transport inmemory': no worker would see the run; use 'morlaif run' for the embedded pipeline");
        if (args.Get("run-id") is { } id && !RunIds.IsValid(id))
            throw new UsageException($"option '--run-id': '{id}' is not valid (1-63 lowercase letters, digits and '-')");

        using var host = CliHost.Build(overrides);
        // Both servers answer before anything is written: a run is recorded only once its start can be published.
        await CliServers.RequireAsync(host);
        await CliServers.DeployTopologyAsync(host);
        await CliServers.StartAsync(host);
        try
        {
            var runId = await CliServers.StartRunAsync(host, config, args.Get("run-id"));
            Console.WriteLine(runId);
            return 0;
        }
        finally
        {
            await CliServers.StopAsync(host);
        }
    }
}
