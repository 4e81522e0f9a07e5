using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Contracts;
using Morlaif.Storage;
using Morlaif.Workers;

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
        var runId = RunIds.IsValid(args.Positional[0]) ? args.Positional[0] : throw new UsageException($"run id '{args.Positional[0]}' is not valid");
        var stage = args.Get("stage") ?? throw new UsageException($"option '--stage' is required ({string.Join("|", StageKeys.ReplayStages)})");
        if (!StageKeys.ReplayStages.Contains(stage))
            throw new UsageException($"option '--stage': '{stage}' is not one of {string.Join(", ", StageKeys.ReplayStages)}");
        var principle = args.Get("principle");
        if (principle is not null && stage is not ("label" or "train-pm"))
            throw new UsageException("option '--principle' applies to --stage label or train-pm only");

        using var host = CliHost.Build(CliHost.Overrides(args));
        await CliServers.RequireAsync(host); // before the manifest is read or reset
        var manifests = host.Services.GetRequiredService<IManifestStore>();
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var manifest = await manifests.ReadAsync(runId) ?? throw new RunNotFoundException(runId);
        var ctx = await artifacts.ContextAsync(manifest, CancellationToken.None);
        if (principle is not null && !ctx.Questions.Contains(principle))
            throw new UsageException($"option '--principle': run {runId} has no principle '{principle}' (its questions: {string.Join(", ", ctx.Questions)})");

        var commands = new List<(string Queue, object Message, string Key)>();
        var questions = principle is null ? ctx.Questions : [principle];
        switch (stage)
        {
            case "sft": commands.Add((Endpoints.Sft, new TrainSftPolicy { RunId = runId }, StageKeys.Sft)); break;
            case "label":
                commands.AddRange(questions.Select(q => (Endpoints.Label, (object)new LabelPairs { RunId = runId, Principle = q }, StageKeys.Label(q))));
                break;
            case "train-pm":
                commands.AddRange(questions.Select(q => (Endpoints.TrainPm, (object)new TrainPreferenceModel { RunId = runId, Principle = q }, StageKeys.TrainPm(q))));
                break;
            case "scalarize": commands.Add((Endpoints.Scalarize, new Scalarize { RunId = runId }, StageKeys.Scalarize)); break;
            case "evaluate": commands.Add((Endpoints.Evaluate, new EvaluateRun { RunId = runId }, StageKeys.Evaluate)); break;
            case "ppo":
                foreach (var arm in new[] { Learning.Stages.ScalarizationStage.MorlaifArm, Learning.Stages.ScalarizationStage.BaselineArm })
                {
                    // Resume each arm from its first unfinished chunk; the chunk before it holds the checkpoint.
                    var start = StageKeys.PpoChunkStarts(ctx.Config.Ppo).FirstOrDefault(s => manifest.Stages.GetValueOrDefault(StageKeys.PpoChunk(arm, s))?.State != StageState.Done, -1);
                    if (start < 0) Console.WriteLine($"ppo {arm}: every chunk is done; nothing to replay");
                    else commands.Add((Endpoints.Ppo, new RunPpoIteration { RunId = runId, Arm = arm, Iteration = start }, StageKeys.PpoChunk(arm, start)));
                }
                break;
        }

        await RunReplay.ResetAsync(manifests, runId, commands.Select(c => c.Key));

        await CliServers.DeployTopologyAsync(host);
        await CliServers.StartAsync(host);
        try
        {
            var bus = host.Services.GetRequiredService<IBus>();
            foreach (var (queue, message, key) in commands)
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
