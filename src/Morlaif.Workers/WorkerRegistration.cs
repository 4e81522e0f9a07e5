using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Morlaif.Workers.Monitoring;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Supervision;

namespace Morlaif.Workers;

/// <summary>The five workers by name; a host registers the ones it runs (the embedded run registers all).</summary>
public static class WorkerRegistration
{
    public const string Labeller = "labeller", PreferenceTrainer = "preference-trainer", Scalarizer = "scalarizer",
        PpoLearner = "ppo-learner", Evaluator = "evaluator";

    public static readonly string[] All = [Labeller, PreferenceTrainer, Scalarizer, PpoLearner, Evaluator];

    /// <summary>What the stage consumers share (the host adds the stores and the torch device).</summary>
    public static IServiceCollection AddStageServices(this IServiceCollection services)
    {
        services.TryAddSingleton(new SupervisionSettings());
        services.TryAddSingleton(new ArtifactCacheSettings());
        services.TryAddSingleton(new StageConcurrency(1));
        return services
            .AddSingleton<RunArtifacts>()
            .AddSingleton(sp => new Text.TextRunStore(sp.GetRequiredService<Storage.IArtifactStore>(), Text.TextRunStore.DefaultCacheRoot))
            .AddSingleton<Text.TextStages>()
            .AddSingleton<Backends.WorldStages>()
            .AddSingleton<Backends.StageBackends>()
            .AddSingleton<LostOutputs>()
            .AddSingleton<StageGate>()
            .AddSingleton<StageCheckpoints>()
            .AddSingleton<RunFaults>()
            .AddReceiveObserver<ContractFaultObserver>()
            .AddConsumeObserver<QueueWaitObserver>();
    }

    public static void AddWorkers(this IBusRegistrationConfigurator bus, IEnumerable<string> workers)
    {
        var list = workers.ToList();
        foreach (var w in list)
        {
            if (!All.Contains(w)) throw new ArgumentException($"unknown worker '{w}' (known: {string.Join(", ", All)})", nameof(workers));
            // The PPO learner owns the policies: SFT at the start of a run, then PPO.
            foreach (var stage in PipelineDefinition.Stages.Where(s => s.Worker == w))
                bus.AddConsumer(stage.Consumer, typeof(StageDefinition<>).MakeGenericType(stage.Consumer));
        }
        // Every worker host records faults, so a run is marked Faulted whichever subset of workers is running.
        if (list.Count == 0) return;
        foreach (var message in PipelineDefinition.AllTriggers)
            bus.AddConsumer(typeof(RunFaultConsumer<>).MakeGenericType(message), typeof(RunFaultConsumerDefinition<>).MakeGenericType(message));
    }
}
