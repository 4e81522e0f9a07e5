using System.CommandLine;
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
    private static readonly Argument<string> RunId = CliOptions.RunId();
    // The stage list is the pipeline's definition's: help cannot drift from what replay accepts.
    private static readonly Option<string> Stage =
        new Option<string>("--stage") { Description = "the stage to run again", Required = true }.Only([.. PipelineDefinition.Names]);
    private static readonly Option<string?> Principle =
        new("--principle") { Description = $"only this question's record (with --stage {PipelineDefinition.PerQuestionNames})", HelpName = "P" };
    private static readonly ServerOptions Servers = new(transport: true);

    public static Command Create() => CliOptions.Command("replay",
        "Resets a stage's unfinished records in the run's manifest and sends their commands again; workers recompute from the recorded inputs.",
        "morlaif replay 20261206-103243-s1-50be5d --stage train-pm --principle conciseness", [RunId, Stage, Principle, .. Servers.Symbols], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        var runId = r.GetValue(RunId)!;
        var stage = PipelineDefinition.Named(r.GetValue(Stage)!)!;
        var principle = r.GetValue(Principle);
        if (principle is not null && !stage.PerQuestion)
            throw new UsageException($"option '--principle' applies to --stage {PipelineDefinition.PerQuestionNames} only");

        using var host = CliHost.Build(Servers.Overrides(r));
        await CliServers.RequireAsync(host); // before the manifest is read or reset
        var manifests = host.Services.GetRequiredService<IManifestStore>();
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var manifest = await manifests.ReadAsync(runId) ?? throw new RunNotFoundException(runId);
        var plan = RunPlan.Of(manifest, (await artifacts.ContextAsync(manifest, CancellationToken.None)).Config);
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
