using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Morlaif.Contracts;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using Morlaif.Learning.TextRuns;
using Morlaif.Learning.Weights;
using Morlaif.Storage;
using Morlaif.Workers.Labeller;
using Morlaif.Workers.Pipeline;
using static TorchSharp.torch;

namespace Morlaif.Workers.Text;

/// <summary>
/// The stages of a text run ("task": "text"), as the same consumers run them: each reads its inputs from the store
/// (model folders as local copies), calls the learning core's text stages and stores its outputs under the same record
/// keys and output names as the synthetic world's, so the gate, the fan-ins, replay and the supervisor are unchanged.
/// </summary>
public sealed class TextStages(RunArtifacts artifacts, TextRunStore inputs, StageCheckpoints checkpoints, Device device, ILogger<TextStages> log)
    : Backends.IStageBackend
{
    /// <summary>The SFT adapter's per-epoch losses, stored beside it for the report.</summary>
    public const string SftLossesFile = "morlaif_sft_losses.json";

    private IArtifactStore Store => artifacts.Store;

    /// <summary>The run's text context over local copies of its model folders (the caller disposes it).</summary>
    public async Task<TextRun> RunAsync(RunManifest m, RunContext ctx, CancellationToken cancel)
    {
        var model = await inputs.FolderAsync(Input(m, TextRunStore.Model), cancel);
        var pm = m.Inputs.TryGetValue(TextRunStore.PmModel, out var pmRef) ? await inputs.FolderAsync(pmRef, cancel) : model;
        return new TextRun(ctx.Config, model, pm, device);
    }

    public async Task<TextRunData> DataAsync(RunManifest m, CancellationToken cancel) =>
        TextRunData.FromJson(await Store.GetAsync(Input(m, TextRunStore.Data), cancel));

    /// <summary>The SFT adapter's local folder, or null when the run has no SFT data (the base is the SFT policy).</summary>
    public async Task<string?> SftAdapterAsync(RunManifest m, CancellationToken cancel)
    {
        var folder = await inputs.UnpackAsync(RunArtifacts.Output(m, StageKeys.Sft, StageOutputs.Policy), cancel);
        return File.Exists(Path.Combine(folder, LoraFolder.ConfigFile)) ? folder : null;
    }

    public async Task<StageOutput> SftAsync(RunManifest m, RunContext ctx, CancellationToken cancel)
    {
        using var run = await RunAsync(m, ctx, cancel);
        var data = await DataAsync(m, cancel);
        var clock = Stopwatch.StartNew();
        var adapter = Directory.CreateTempSubdirectory("morlaif-sft-");
        try
        {
            // Without SFT data the stored policy is an empty archive: the base itself.
            if (data.Sft is { Count: > 0 } demos)
            {
                var losses = TextSftStage.Train(run, demos, adapter.FullName, (epoch, loss) => log.LogInformation("run {RunId}: SFT epoch {Epoch}, loss {Loss:F4}", m.RunId, epoch, loss));
                File.WriteAllText(Path.Combine(adapter.FullName, SftLossesFile), System.Text.Json.JsonSerializer.Serialize(losses));
            }
            var sftSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using var policy = run.LoadSftPolicy(data.Sft is { Count: > 0 } ? adapter.FullName : null);
            var pairs = PairSamplingStage.Sample(new HfGenerativePolicy(policy, run.StopIds(policy)), run, PairPrompts<string>.Fixed(data.PairPrompts), ctx.Config, run.Device,
                ctx.Config.Pairs.Train, ctx.Config.Pairs.Test);
            log.LogInformation("run {RunId}: sampled {Pairs} response pairs ({Identical} identical)", m.RunId, pairs.Train.Count + pairs.Test.Count, pairs.Identical);
            return new StageOutput(new()
            {
                [StageOutputs.Policy] = await Store.PutAsync(m.RunId, "sft-policy", FolderArchive.Pack(adapter.FullName), cancel),
                [StageOutputs.Pairs] = await Store.PutAsync(m.RunId, "pairs", pairs.ToJson(), cancel),
            }, new() { [Backends.SftParts.Train] = sftSeconds, [Backends.SftParts.Pairs] = clock.Elapsed.TotalSeconds });
        }
        finally
        {
            adapter.Delete(recursive: true);
        }
    }

    public async Task<LabelSet> LabelAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel)
    {
        var pairs = await artifacts.PairsAsync<string>(m, cancel);
        return await ChatJudgeLabelling.LabelAsync(checkpoints, m, ctx.Config, pairs.Train, pairs.Test, question, new ArtifactJudgeCache(Store), cancel);
    }

    /// <summary>One question's PM, epoch by epoch with a checkpoint after each (<see cref="PreferenceTrainer.PmEpochs"/>), as the world's.</summary>
    public async Task<ArtifactReference> TrainPmAsync(RunManifest m, RunContext ctx, string question, CancellationToken cancel)
    {
        using var run = await RunAsync(m, ctx, cancel);
        var labels = await artifacts.LabelsAsync(m, question, cancel);
        var pairs = await artifacts.PairsAsync<string>(m, cancel);
        using var model = run.LoadPmBase();
        using var pms = new HfPreferenceModel(model);
        var initialLoss = double.NaN;
        using var trainer = await PreferenceTrainer.PmEpochs.TrainAsync(checkpoints, m, StageKeys.TrainPm(question), PreferenceTrainer.PmEpochs.Inputs(m, ctx.Config, question),
            checkpoint =>
            {
                // A checkpoint that does not fit is passed over and a fresh PM started: take the rejected adapter off first.
                if (pms.Principles.Contains(question)) pms.RemovePrinciple(question);
                (var trainer, initialLoss) = TextPreferenceStage.Start(run, pms, pairs, labels, checkpoint);
                return trainer;
            }, log, cancel);
        var folder = Directory.CreateTempSubdirectory("morlaif-pm-");
        try
        {
            var stats = TextPreferenceStage.Finish(pms, trainer, initialLoss, pairs, labels, folder.FullName);
            log.LogInformation("run {RunId}: PM {Question} loss {Before:F4} -> {After:F4}, held-out accuracy {Accuracy:F3}",
                m.RunId, question, stats.InitialLoss, stats.FinalLoss, stats.HeldOutAccuracy);
            await checkpoints.ProgressAsync(m.RunId, StageKeys.TrainPm(question),
                PreferenceTrainer.PmEpochs.Progress(trainer.Epoch, trainer.Epochs, stats.FinalLoss, stats.HeldOutAccuracy), cancel);
            return await Store.PutAsync(m.RunId, ArtifactNames.Kind($"pm-{question}"), FolderArchive.Pack(folder.FullName), cancel);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Every question's PM on one PM base (the caller owns the base); returns their statistics by question.</summary>
    public async Task<Dictionary<string, TextPmStats>> LoadPmsAsync(RunManifest m, TextRun run, HfPreferenceModel pms, CancellationToken cancel)
    {
        var stats = new Dictionary<string, TextPmStats>();
        foreach (var q in run.Questions)
            stats[q] = TextPreferenceStage.Load(pms, q, await inputs.UnpackAsync(RunArtifacts.Output(m, StageKeys.TrainPm(q), StageOutputs.Model), cancel));
        return stats;
    }

    public async Task<ObjectiveFit> ScalarizeAsync(RunManifest m, RunContext ctx, CancellationToken cancel)
    {
        using var run = await RunAsync(m, ctx, cancel);
        using var model = run.LoadPmBase();
        using var pms = new HfPreferenceModel(model);
        var stats = await LoadPmsAsync(m, run, pms, cancel);
        return TextScalarization.Fit(run, pms, stats.ToDictionary(kv => kv.Key, kv => kv.Value.Normalizer), (await DataAsync(m, cancel)).Human);
    }

    /// <summary>
    /// PPO iterations [start, end) of one arm (<see cref="Learner.PpoChunk"/>). The policy's adapter sits on the SFT
    /// policy; the PMs on their own base, or on the same one when it is the same model.
    /// </summary>
    public async Task<Dictionary<string, ArtifactReference>> PpoChunkAsync(RunManifest m, RunContext ctx, string arm, int start, int end, CancellationToken cancel)
    {
        using var run = await RunAsync(m, ctx, cancel);
        var sftAdapter = await SftAdapterAsync(m, cancel);
        using var policyBase = run.LoadSftPolicy(sftAdapter);
        var shared = sftAdapter is null && run.PmFolder == run.ModelFolder;
        using var pmBase = shared ? null : run.LoadPmBase();
        using var pms = new HfPreferenceModel(pmBase ?? policyBase);
        var normalizers = (await LoadPmsAsync(m, run, pms, cancel)).ToDictionary(kv => kv.Key, kv => kv.Value.Normalizer);
        var spec = ctx.Config.Arm(arm);
        var config = ctx.Config.ForArm(spec);
        var fit = spec.Reward == ScalarizationStage.MorlaifArm ? await artifacts.ObjectiveAsync(m, cancel) : null;
        var reward = TextScalarization.Reward(spec.Reward, config, fit, pms, normalizers);
        // The training pairs' prompts: never the held-out or the evaluation ones.
        var prompts = (await artifacts.PairsAsync<string>(m, cancel)).Train.Select(p => p.Prompt).ToList();
        PolicyMonitor? monitor = null;
        if (config.MonitorOn(config.Ppo))
        {
            // The monitor's prompts: drawn once per run from the training pairs' prompts, the same for every arm and check
            // (as many as monitor.prompts, or every training pair's when there are fewer, as the dry run counts them).
            var settings = Learning.Runs.RunConfig.MonitorOf(config.Ppo);
            var rng = new Random(run.Seed("monitor-prompts"));
            var watched = prompts.OrderBy(_ => rng.Next()).Take(settings.Prompts).ToList();
            monitor = new PolicyMonitor([.. watched.Select(run.EncodePrompt)], ids => run.Decode(ids),
                new ChatMonitorJudge(config, new ArtifactJudgeCache(Store), [.. watched.Select(run.Conversation)]),
                [.. config.Principles.Select(q => new PrincipleScorer(q, pms.Principle(q), normalizers[q]))], settings, config.Ppo.MaxNewTokens, run.Seed("monitor"));
        }
        return await Learner.PpoChunk.RunAsync(artifacts, checkpoints, m, arm, start, end, config.Ppo, () => TextPpoStage.Learner(run, policyBase, reward, config.Ppo),
            learner => PpoStage.Iterate(learner, run, config, rng => prompts[rng.Next(prompts.Count)]), monitor, log, cancel);
    }

    /// <summary>
    /// Both arms' policies answer the evaluation prompts (sampled with the same seed), one adapter at a time on the SFT
    /// policy; the chat judge compares the answers in both orders (<see cref="ChatEvaluationJudge"/>).
    /// </summary>
    public async Task<Backends.Evaluated> EvaluateAsync(RunManifest m, RunContext ctx, CancellationToken cancel)
    {
        using var run = await RunAsync(m, ctx, cancel);
        var prompts = (await DataAsync(m, cancel)).EvaluationPrompts;
        var sftAdapter = await SftAdapterAsync(m, cancel);
        using var policyBase = run.LoadSftPolicy(sftAdapter);
        var lossesFile = sftAdapter is null ? null : Path.Combine(sftAdapter, SftLossesFile);
        var sftLosses = lossesFile is not null && File.Exists(lossesFile)
            ? System.Text.Json.JsonSerializer.Deserialize<List<double>>(await File.ReadAllTextAsync(lossesFile, cancel))
            : null;
        var model = new Learning.Runs.ModelDescription(Path.GetFileName(ctx.Config.Model.Path!.TrimEnd('/')), policyBase.parameters().Sum(p => p.numel()), sftLosses);
        var identical = (await artifacts.PairsAsync<string>(m, cancel)).Identical;
        if (ctx.Config.ComparedArms is not { } compared) return new Backends.Evaluated(null, Model: model, IdenticalPairs: identical);
        // The judge compares the two arms' answers: "morlaif" and "baseline" are the roles, the compared arms play them.
        var checkpoints = new Dictionary<string, (byte[] Bytes, PpoSettings Ppo)>();
        foreach (var (role, arm) in new[] { (ScalarizationStage.MorlaifArm, compared.Morlaif), (ScalarizationStage.BaselineArm, compared.Baseline) })
            checkpoints[role] = (await artifacts.BytesAsync(RunArtifacts.Output(m, StageKeys.FinalPpoChunk(ctx.Config, arm.Name), StageOutputs.Checkpoint), cancel),
                ctx.Config.ForArm(arm).Ppo);
        var ids = prompts.Select(run.EncodePrompt).ToList();
        IReadOnlyList<string> Answers(string arm)
        {
            // Disposing the arm's policy takes its adapter off the shared SFT policy again.
            using var policy = TextPpoStage.Policy(run, policyBase, checkpoints[arm].Bytes, checkpoints[arm].Ppo);
            return EvaluationStage.Answer(policy, ids, ctx.Config, run.Device).Select(run.Decode).ToList();
        }
        var result = await EvaluationStage.EvaluateAsync(new EvaluationSet<string>(prompts, 0, 1), p => p, Answers,
            new ChatEvaluationJudge(ctx.Config, new ArtifactJudgeCache(Store), prompts), null, ctx.Config, cancel);
        return new Backends.Evaluated(result, Model: model, IdenticalPairs: identical);
    }

    /// <summary>A PM's statistics as the report shows them, from the PM folder's own (<see cref="TextPreferenceStage.StatsFile"/>).</summary>
    public async Task<Learning.Runs.PreferenceModelStats> PmStatsAsync(RunManifest m, string question, CancellationToken cancel)
    {
        var s = TextPreferenceStage.ReadStats(await inputs.UnpackAsync(RunArtifacts.Output(m, StageKeys.TrainPm(question), StageOutputs.Model), cancel));
        return new Learning.Runs.PreferenceModelStats(s.HeldOutAccuracy, null, s.FinalLoss, s.Normalizer.Mean, s.Normalizer.Std, s.InitialLoss);
    }

    /// <summary>The local copy of a stored folder archive (a PM, an adapter).</summary>
    public Task<string> UnpackAsync(ArtifactReference archive, CancellationToken cancel) => inputs.UnpackAsync(archive, cancel);

    private static ArtifactReference Input(RunManifest m, string name) =>
        m.Inputs.TryGetValue(name, out var r) ? r : throw new InvalidDataException($"run {m.RunId} is a text run without its input '{name}' (started by an older morlaif?)");
}
