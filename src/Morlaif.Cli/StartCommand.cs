using System.CommandLine;
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
    private static readonly Option<string?> ConfigFile = CliOptions.Config("a run config (JSON; see README, Configuration); without it, the built-in defaults");
    private static readonly Option<long?> Seed = CliOptions.Seed("the run's seed, over the config's");
    private static readonly Option<bool> Dry = CliOptions.DryRun();
    private static readonly Option<string?> RunId = new("--run-id") { Description = "the run's id (default: date, time, seed and a random suffix); starting an id twice starts it once" };
    private static readonly ServerOptions Servers = new(transport: true);

    public static Command Create() => CliOptions.Command("start",
        "Publishes the start of a run to the broker for the workers to run; prints the run id on its last line.",
        "morlaif start --config run.json --seed 3", [ConfigFile, Seed, Dry, RunId, .. Servers.Symbols], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        var config = r.GetValue(ConfigFile) is { } path ? RunConfig.Load(path) : new RunConfig();
        if (r.GetValue(Seed) is { } seed) config = config.WithSeed(seed);
        if (r.GetValue(Dry)) return DryRun.Print(config);
        DryRun.Check(config);
        var overrides = Servers.Overrides(r);
        if (overrides.GetValueOrDefault("Morlaif:Transport") == "inmemory")
            throw new UsageException("option '--transport inmemory': no worker would see the run; use 'morlaif run' for the embedded pipeline");
        if (r.GetValue(RunId) is { } id && !RunIds.IsValid(id))
            throw new UsageException($"option '--run-id': '{id}' is not valid (1-63 lowercase letters, digits and '-')");

        using var host = CliHost.Build(overrides);
        // Both servers answer before anything is written: a run is recorded only once its start can be published.
        await CliServers.RequireAsync(host);
        await CliServers.DeployTopologyAsync(host);
        await CliServers.StartAsync(host);
        try
        {
            var runId = await CliServers.StartRunAsync(host, config, r.GetValue(RunId));
            Console.WriteLine(runId);
            return 0;
        }
        finally
        {
            await CliServers.StopAsync(host);
        }
    }
}
