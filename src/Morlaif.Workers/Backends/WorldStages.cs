using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.World;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Storage;
using Morlaif.Workers.Labeller;
using Morlaif.Workers.Learner;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.PreferenceTrainer;
using TorchSharp;

namespace Morlaif.Workers.Backends;

/// <summary>The synthetic world's stages: its small transformer, its word tokenizer, its judge (or a chat judge) and its truth.</summary>
public sealed class WorldStages(RunArtifacts artifacts, StageCheckpoints checkpoints, ILogger<WorldStages> log) : IStageBackend
{
    public async Task<StageOutput> SftAsync(RunManifest m, RunContext run, CancellationToken cancel)
    {
        var ctx = World(run);
        var clock = Stopwatch.StartNew();
        var (policy, loss, demos) = SftStage.Train(ctx);
        using var trained = policy; // stored below; the worker keeps no copy
        var sftSeconds = clock.Elapsed.TotalSeconds;
        log.LogInformation("run {RunId}: SFT on {Demos} demonstrations, final loss {Loss:F3}", m.RunId, demos, loss);
        clock.Restart();
        var pairs = ctx.SamplePairs(policy);
        var outputs = new Dictionary<string, ArtifactReference>
        {
            [StageOutputs.Policy] = await artifacts.Store.PutAsync(m.RunId, "sft-policy", policy.ToBytes(), cancel),
            [StageOutputs.Pairs] = await artifacts.Store.PutAsync(m.RunId, "pairs", pairs.ToJson(), cancel),
        };
        return new StageOutput(outputs, new() { [SftParts.Train] = sftSeconds, [SftParts.Pairs] = clock.Elapsed.TotalSeconds });
    }

    public async Task<LabelSet> LabelAsync(RunManifest m, RunContext run, string question, CancellationToken cancel)
    {
        var ctx = World(run);
        var pairs = await artifacts.PairsAsync<SyntheticPrompt>(m, cancel);
        return ctx.Config.Judge.Kind == "openai"
            ? await ChatJudgeLabelling.LabelAsync(checkpoints, m, ctx.Config, pairs.Train, pairs.Test, question, new ArtifactJudgeCache(artifacts.Store), cancel)
            : LabellingStage.Label(ctx, pairs, question);
    }

    public async Task<ArtifactReference> TrainPmAsync(RunManifest m, RunContext run, string question, CancellationToken cancel)
    {
        var ctx = World(run);
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var pairs = await artifacts.PairsAsync<SyntheticPrompt>(m, cancel);
        // The control PM learns from the baseline's labels, the pooled PM from every draw's (PmQuestions.TrainedOn).
        List<LabelSet> labels = [];
        foreach (var q in PmQuestions.TrainedOn(question, ctx.Config).Labels) labels.Add(await artifacts.LabelsAsync(m, q, cancel));
        using var trainer = await PmEpochs.TrainAsync(checkpoints, m, StageKeys.TrainPm(question), PmEpochs.Inputs(m, ctx.Config, question),
            checkpoint => PreferenceModelStage.Start(ctx, sft, pairs, question, labels, checkpoint), log, cancel);
        var pm = PreferenceModelStage.Finish(trainer, pairs, question, labels);
        using var model = pm.Model; // stored below; the worker keeps no copy
        log.LogInformation("run {RunId}: PM {Question} held-out accuracy {Accuracy:F3}", m.RunId, question, pm.Stats.HeldOutAccuracy);
        await checkpoints.ProgressAsync(m.RunId, StageKeys.TrainPm(question), PmEpochs.Progress(trainer.Epoch, trainer.Epochs, pm.Stats.FinalTrainLoss, pm.Stats.HeldOutAccuracy), cancel);
        return await artifacts.Store.PutAsync(m.RunId, ArtifactNames.Kind($"pm-{question}"), pm.ToBytes(), cancel);
    }

    public async Task<ObjectiveFit> ScalarizeAsync(RunManifest m, RunContext run, CancellationToken cancel)
    {
        var ctx = World(run);
        return ScalarizationStage.Fit(ctx, await artifacts.PairsAsync<SyntheticPrompt>(m, cancel), await artifacts.PreferenceModelsAsync(m, ctx, cancel));
    }

    public async Task<Dictionary<string, ArtifactReference>> PpoChunkAsync(RunManifest m, RunContext run, string arm, int start, int end, CancellationToken cancel)
    {
        // An arm may set its own scalarization and PPO settings; its world is the run's otherwise.
        var spec = run.Config.Arm(arm);
        var config = run.Config.ForArm(spec);
        var ctx = config == run.Config ? World(run) : new WorldRun(config, run.Device);
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var pms = await artifacts.PreferenceModelsAsync(m, ctx, cancel);
        var fit = spec.Reward == ScalarizationStage.MorlaifArm ? await artifacts.ObjectiveAsync(m, cancel) : null;
        var reward = ScalarizationStage.Reward(spec.Reward, ctx, fit, pms);
        return await PpoChunk.RunAsync(artifacts, checkpoints, m, arm, start, end, config.Ppo,
            () => PpoStage.Learner(ctx, sft, reward), learner => PpoStage.Iterate(ctx, learner), Monitor(ctx, pms), log, cancel);
    }

    /// <summary>The judge watching an arm's policy, where its config turns the monitor on: the run's judge (the world's own, or a chat judge) on fixed prompts.</summary>
    private PolicyMonitor? Monitor(WorldRun ctx, IReadOnlyDictionary<string, TrainedPreferenceModel> pms)
    {
        var config = ctx.Config;
        if (!config.MonitorOn(config.Ppo)) return null;
        var settings = RunConfig.MonitorOf(config.Ppo);
        var prompts = WorldMonitorJudge.Prompts(ctx, settings.Prompts);
        IMonitorJudge judge = config.Judge.Kind == "openai"
            ? new ChatMonitorJudge(config, new ArtifactJudgeCache(artifacts.Store), [.. prompts.Select(ctx.Conversation)])
            : new WorldMonitorJudge(ctx.Judge, prompts, ctx.Seed("monitor"));
        var scorers = ScalarizationStage.Scorers(pms);
        return new PolicyMonitor([.. prompts.Select(ctx.EncodePrompt)], ids => ctx.Decode(ids), judge, [.. config.Principles.Select(scorers)], settings,
            config.Ppo.MaxNewTokens, ctx.Seed("monitor"));
    }

    public async Task<Evaluated> EvaluateAsync(RunManifest m, RunContext run, CancellationToken cancel)
    {
        var ctx = World(run);
        var sft = await artifacts.SftPolicyAsync(m, ctx, cancel);
        var world = WorldDescription.Of(ctx, (int)sft.parameters().Sum(p => p.numel()));
        if (ctx.Config.ComparedArms is not { } compared) return new Evaluated(null, World: world);
        var policies = new Dictionary<string, PolicyModel>();
        try
        {
            foreach (var arm in ctx.Config.PolicyArms)
            {
                var policy = policies[arm.Name] = ctx.NewPolicy();
                WorldPpoPolicy.LoadModel(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.FinalPpoChunk(ctx.Config, arm.Name), StageOutputs.Checkpoint), cancel), policy);
                policy.to(ctx.Device);
            }
            var (result, truths) = WorldEvaluation.Evaluate(ctx, sft, policies, compared.Morlaif.Name, compared.Baseline.Name);
            if (ctx.Config.Evaluation.Path) truths = truths with { Path = await PathAsync(m, ctx, truths, cancel) };
            return new Evaluated(result, World: world, Truths: truths);
        }
        finally
        {
            foreach (var policy in policies.Values) policy.Dispose(); // loaded for this evaluation only
        }
    }

    /// <summary>
    /// Each arm's policy at the end of each of its PPO chunks (the chunk's checkpoint; the last is the arm's policy the
    /// evaluation already answered with), scored on the evaluation prompts, prompt by prompt as the mean of its samples.
    /// The KL of a point is that of the next iteration's rollouts, the first drawn from that very policy; the last point
    /// has no next iteration and takes its own last iteration's (drawn one update earlier), as the report's final KL does.
    /// </summary>
    private async Task<Dictionary<string, IReadOnlyList<PathPoint>>> PathAsync(RunManifest m, WorldRun ctx, PolicyTruths truths, CancellationToken cancel)
    {
        IReadOnlyList<double> PerPrompt(IReadOnlyList<double> items) =>
            [.. Enumerable.Range(0, items.Count / truths.Samples).Select(p => Enumerable.Range(p * truths.Samples, truths.Samples).Average(i => items[i]))];
        var path = new Dictionary<string, IReadOnlyList<PathPoint>>();
        foreach (var arm in ctx.Config.PolicyArms)
        {
            var starts = StageKeys.PpoChunkStarts(ctx.Config.ForArm(arm).Ppo).ToList();
            var stats = PpoStage.StatsFromJson(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.FinalPpoChunk(ctx.Config, arm.Name), StageOutputs.Stats), cancel));
            var points = new List<PathPoint>();
            for (var c = 0; c < starts.Count - 1; c++)
            {
                var end = starts[c + 1];
                using var policy = ctx.NewPolicy();
                WorldPpoPolicy.LoadModel(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.PpoChunk(arm.Name, starts[c]), StageOutputs.Checkpoint), cancel), policy);
                policy.to(ctx.Device);
                points.Add(new PathPoint(end, stats[end].MeanKl, PerPrompt(WorldEvaluation.TruePreferenceOf(ctx, policy))));
            }
            points.Add(new PathPoint(stats.Count, stats[^1].MeanKl, PerPrompt(truths.Truth[arm.Name])));
            path[arm.Name] = points;
        }
        return path;
    }

    public async Task<PreferenceModelStats> PmStatsAsync(RunManifest m, string question, CancellationToken cancel) =>
        TrainedPreferenceModel.StatsFromBytes(await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.TrainPm(question), StageOutputs.Model), cancel));

    // One world context per run context: RunArtifacts keeps a run's context, so its word tokenizer is built once per
    // run and worker rather than once per stage message; the entry goes when the run's context does.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RunContext, WorldRun> Worlds = new();

    /// <summary>The world's context of a run: its tokenizer, model shape and judge.</summary>
    private static WorldRun World(RunContext run) => Worlds.GetValue(run, r => new WorldRun(r.Config, r.Device));
}
