using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Cli;

/// <summary>
/// morlaif replay RUNID --stage S [--principle P]: resets that stage's records in the manifest and sends
/// its command again; the worker recomputes from the recorded inputs. Stages that had succeeded are not
/// redone: downstream workers see their own stages Done and only the missing ones run.
/// </summary>
public static class ReplayCommand
{
    public static readonly string[] Options = ["stage", "principle", "transport", "storage", "store"];

    public static async Task<int> Execute(CliArguments args)
    {
        var runId = args.RunId();
        var names = string.Join("|", PipelineDefinition.Names);
        var name = args.Get("stage") ?? throw new UsageException($"option '--stage' is required ({names})");
        var stage = PipelineDefinition.Named(name) ?? throw new UsageException($"option '--stage': '{name}' is not one of {names.Replace("|", ", ")}");
        var principle = args.Get("principle");
        if (principle is not null && !stage.PerQuestion)
            throw new UsageException($"option '--principle' applies to --stage {PipelineDefinition.PerQuestionNames} only");

        using var host = CliHost.Build(CliHost.Overrides(args));
        await CliServers.RequireAsync(host); // before the manifest is read or reset
        var manifests = host.Services.GetRequiredService<IManifestStore>();
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var manifest = await manifests.ReadAsync(runId) ?? throw new RunNotFoundException(runId);
        var plan = RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, CancellationToken.None)).Config.Ppo);
        List<string> keys;
        try
        {
            keys = RunReplay.Keys(manifest, plan, stage, principle);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"option '--principle': {e.Message}");
        }
        if (keys.Count == 0) Console.WriteLine($"{stage.Name}: every record is done; nothing to replay");
        var commands = keys.Select(k => (Key: k, Command: PipelineDefinition.CommandFor(runId, k))).ToList();

        await RunReplay.ResetAsync(manifests, runId, keys);

        await CliServers.DeployTopologyAsync(host);
        await CliServers.StartAsync(host);
        try
        {
            var bus = host.Services.GetRequiredService<IBus>();
            foreach (var (key, (queue, message)) in commands)
            {
                var endpoint = await bus.GetSendEndpoint(Endpoints.Queue(queue));
                await endpoint.Send(message, message.GetType());
                Console.WriteLine($"replayed {key} (sent {message.GetType().Name} to {queue})");
            }
            return 0;
        }
        finally
        {
            await CliServers.StopAsync(host);
        }
    }
}
