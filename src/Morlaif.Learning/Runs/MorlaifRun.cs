using System.Diagnostics;
using TorchSharp;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.Text;
using Morlaif.Learning.Training;
using Morlaif.Learning.Weights;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Runs;

/// <summary>
/// MORLAIF end to end in one process: SFT, pair sampling, per-principle labelling, one PM per principle
/// (and one "overall" PM for the baseline), principle weights, the seven objectives' accuracies, PPO for
/// both arms with the same budget, and the pairwise evaluation.
/// </summary>
public sealed class MorlaifRun(RunConfig config, Device device, Action<string>? log = null)
{
    public const string MorlaifArm = "morlaif", BaselineArm = "baseline";

    private readonly Dictionary<string, double> _timings = new();
    private readonly Action<string> _log = log ?? (_ => { });

    /// <summary>Called after each PPO iteration with the arm's name (for progress display).</summary>
    public Action<string, PpoIterationStats>? OnPpoIteration { get; init; }

    /// <summary>Where checkpoints go (sft, PMs, PPO learners); none are written when null.</summary>
    public string? CheckpointDirectory { get; init; }

    public RunReport Execute(string runId, CancellationToken cancel = default)
    {
        var total = Stopwatch.StartNew();
        manual_seed(config.Seed);
        set_num_threads(Math.Max(1, Environment.ProcessorCount));
        var tokenizer = new WordTokenizer(Catalog.AllTexts());
        var modelConfig = new TransformerConfig(tokenizer.VocabSize, config.Model.DModel, config.Model.Layers, config.Model.Heads, config.Model.ContextLength);
        var judge = new SyntheticJudge(config.Judge.Sharpness, config.Judge.PositionBias, config.Judge.NoiseSd);
        var questions = config.Principles.Append(Principle.Overall).ToArray();

        var sft = Time("sft", () => TrainSft(tokenizer, modelConfig));
        Save("sft.bin", s => sft.save(s));
        cancel.ThrowIfCancellationRequested();

        var (train, test) = Time("pairs", () => SamplePairs(sft, tokenizer));
        cancel.ThrowIfCancellationRequested();

        var (trainLabels, testLabels, disagreed) = Time("label", () => Label(judge, questions, train, test));

        var pms = new Dictionary<string, (PreferenceModel Model, ScoreNormalizer Normalizer)>();
        var pmStats = new Dictionary<string, PreferenceModelStats>();
        Time("train-pm", () =>
        {
            foreach (var q in questions)
            {
                cancel.ThrowIfCancellationRequested();
                var (pm, normalizer, stats) = TrainPreferenceModel(sft, q, train, test, trainLabels[q], testLabels[q]);
                pms[q] = (pm, normalizer);
                pmStats[q] = stats;
                Save($"pm-{q}.bin", s => pm.save(s));
                _log($"PM {q}: held-out accuracy {stats.HeldOutAccuracy:F3} (vs ground truth {stats.GroundTruthAccuracy:F3})");
            }
        });

        var (weights, objectiveAccuracy, ablation) = Time("weights", () => FitWeights(pms, test));
        _log($"weights: {string.Join(", ", config.Principles.Select((p, i) => $"{p} {weights.Weights[i]:F2}"))}");

        var ppoStats = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
        var morlaifReward = new PreferenceModelReward(config.Principles.Select(p => pms[p]).ToList(),
            new ScalarizedReward(weights.Weights, Scalarizers.Get(config.Scalarization)));
        var (morlaif, morlaifStats) = Time("ppo-morlaif", () => RunPpo(MorlaifArm, sft, tokenizer, morlaifReward, cancel));
        ppoStats[MorlaifArm] = morlaifStats;
        var baselineReward = new PreferenceModelReward([pms[Principle.Overall]], new ScalarizedReward([1.0], new WeightedLinear()));
        var (baseline, baselineStats) = Time("ppo-baseline", () => RunPpo(BaselineArm, sft, tokenizer, baselineReward, cancel));
        ppoStats[BaselineArm] = baselineStats;

        var evaluation = Time("evaluate", () => Evaluate(judge, tokenizer, morlaif, baseline, sft));
        _timings["total"] = total.Elapsed.TotalSeconds;

        return new RunReport
        {
            RunId = runId,
            Seed = config.Seed,
            CreatedAt = DateTimeOffset.UtcNow,
            Device = device.ToString(),
            Principles = config.Principles,
            Scalarization = config.Scalarization,
            Baseline = config.Baseline,
            World = new WorldDescription(tokenizer.VocabSize, (int)sft.parameters().Sum(p => p.numel()),
                judge.Sharpness, judge.PositionBias, judge.NoiseSd,
                "1.2 tanh(help/2) + 0.9 tanh(fact/2) + 0.5 tanh(syc/2) + w_det(intent) tanh(detail/3) + w_con(intent) tanh(concise/2) "
                + "+ w_emp(intent) tanh(empathy/2) + (ethics < 0 ? 1.5 ethics : 0.3 tanh(ethics)); w_det 0.9 on detail requests else 0.15, "
                + "w_con 0.9 on brief requests else 0.25, w_emp 0.8 on distress else 0.1",
                "logit(A) = sharpness * (s(A) - s(B)) + positionBias + N(0, noiseSd^2), clipped to ±10; asked in both orders"),
            Judge = new JudgeStats(train.Count, test.Count, disagreed),
            PreferenceModels = pmStats,
            Weights = config.Principles.Select((p, i) => (p, w: weights.Weights[i])).ToDictionary(x => x.p, x => x.w),
            ObjectiveAccuracy = objectiveAccuracy,
            Ablation = ablation,
            Evaluation = evaluation,
            Ppo = ppoStats,
            Timings = new Dictionary<string, double>(_timings),
            Config = config,
        };
    }

    private PolicyModel TrainSft(WordTokenizer tokenizer, TransformerConfig modelConfig)
    {
        var rng = new Random(Seed("sft"));
        var demos = Prompts.Sample(rng, config.Sft.Demonstrations)
            .Select(p => tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)))
            .Select(x => new Demonstration(x.Ids, x.ResponseStart)).ToList();
        var policy = new PolicyModel(modelConfig);
        policy.to(device);
        var loss = SupervisedFineTuning.Train(policy, demos,
            new SftSettings(config.Sft.Epochs, config.Sft.BatchSize, config.Sft.LearningRate), rng);
        _log($"SFT: {demos.Count} demonstrations, final loss {loss:F3}");
        return policy;
    }

    /// <summary>A prompt with two different responses sampled from the SFT policy.</summary>
    private sealed record Pair(SyntheticPrompt Prompt, int[] PromptIds, int[] A, int[] B, string TextA, string TextB)
    {
        public int[] SequenceA => [.. PromptIds, .. A];
        public int[] SequenceB => [.. PromptIds, .. B];
    }

    private (List<Pair> Train, List<Pair> Test) SamplePairs(PolicyModel sft, WordTokenizer tokenizer)
    {
        var rng = new Random(Seed("pairs"));
        using var generator = new Generator((ulong)Seed("pairs-sampling"), device);
        var needed = config.Pairs.Train + config.Pairs.Test;
        var pairs = new List<Pair>();
        // Identical responses carry no preference; draw more prompts until enough pairs differ.
        for (var round = 0; pairs.Count < needed && round < 20; round++)
        {
            var prompts = Prompts.Sample(rng, (needed - pairs.Count) * 5 / 4 + 8);
            var ids = prompts.Select(p => tokenizer.EncodePrompt(p.Text)).ToList();
            var a = Sampler.Generate(sft, ids, config.Ppo.MaxNewTokens, generator);
            var b = Sampler.Generate(sft, ids, config.Ppo.MaxNewTokens, generator);
            for (var i = 0; i < prompts.Count && pairs.Count < needed; i++)
                if (!a[i].SequenceEqual(b[i]))
                    pairs.Add(new Pair(prompts[i], ids[i], a[i], b[i], tokenizer.Decode(a[i]), tokenizer.Decode(b[i])));
        }
        if (pairs.Count < needed) throw new InvalidOperationException($"the SFT policy produced only {pairs.Count} distinct pairs of the {needed} needed");
        _log($"pairs: {config.Pairs.Train} train, {config.Pairs.Test} test");
        return (pairs[..config.Pairs.Train], pairs[config.Pairs.Train..]);
    }

    private (Dictionary<string, PreferenceLabel[]> Train, Dictionary<string, PreferenceLabel[]> Test, Dictionary<string, double> Disagreed)
        Label(SyntheticJudge judge, string[] questions, List<Pair> train, List<Pair> test)
    {
        var rng = new Random(Seed("judge"));
        PreferenceLabel[] Ask(string q, List<Pair> pairs) => pairs
            .Select(p => judge.Label(GroundTruth.Score(q, p.Prompt, p.TextA), GroundTruth.Score(q, p.Prompt, p.TextB), rng)).ToArray();
        var trainLabels = questions.ToDictionary(q => q, q => Ask(q, train));
        var testLabels = questions.ToDictionary(q => q, q => Ask(q, test));
        var disagreed = questions.ToDictionary(q => q, q => trainLabels[q].Concat(testLabels[q]).Average(l => l.OrdersDisagreed ? 1.0 : 0.0));
        return (trainLabels, testLabels, disagreed);
    }

    private (PreferenceModel, ScoreNormalizer, PreferenceModelStats) TrainPreferenceModel(
        PolicyModel sft, string question, List<Pair> train, List<Pair> test, PreferenceLabel[] trainLabels, PreferenceLabel[] testLabels)
    {
        var pm = PreferenceModel.FromPolicy(sft);
        pm.to(device);
        var pairs = train.Select((p, i) => new PreferencePair(p.SequenceA, p.SequenceB, trainLabels[i].PreferA, trainLabels[i].Margin)).ToList();
        var s = config.PreferenceModel;
        var loss = PreferenceModelTraining.Train(pm, pairs, new PmSettings(s.Epochs, s.BatchSize, s.LearningRate), new Random(Seed("pm-" + question)));

        var heldOut = test.Select((p, i) => new PreferencePair(p.SequenceA, p.SequenceB, testLabels[i].PreferA, testLabels[i].Margin)).ToList();
        var judgeAccuracy = PreferenceModelTraining.Accuracy(pm, heldOut);
        var truth = test.Select(p => (p, d: GroundTruth.Score(question, p.Prompt, p.TextA) - GroundTruth.Score(question, p.Prompt, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9)
            .Select(x => new PreferencePair(x.p.SequenceA, x.p.SequenceB, x.d > 0 ? 1 : 0, 0)).ToList();
        var truthAccuracy = PreferenceModelTraining.Accuracy(pm, truth);

        var normalizer = ScoreNormalizer.Fit(PreferenceModelTraining.Score(pm, [.. train.Select(p => p.SequenceA), .. train.Select(p => p.SequenceB)]));
        return (pm, normalizer, new PreferenceModelStats(judgeAccuracy, truthAccuracy, loss, normalizer.Mean, normalizer.Std));
    }

    private (PrincipleWeights, Dictionary<string, double>, List<AblationPoint>) FitWeights(
        Dictionary<string, (PreferenceModel Model, ScoreNormalizer Normalizer)> pms, List<Pair> test)
    {
        // The held-out pairs with a true winner: the first half fits the weights, the second half tests.
        var decided = test.Select(p => (p, d: GroundTruth.Score(Principle.Overall, p.Prompt, p.TextA) - GroundTruth.Score(Principle.Overall, p.Prompt, p.TextB)))
            .Where(x => Math.Abs(x.d) > 1e-9).ToList();
        var half = decided.Count / 2;
        var multi = new PreferenceModelReward(config.Principles.Select(p => pms[p]).ToList(), new ScalarizedReward(config.Principles.Select(_ => 1.0).ToArray(), new WeightedLinear()));
        double[][] Rows(double[][] perPrinciple) => Enumerable.Range(0, perPrinciple[0].Length).Select(n => perPrinciple.Select(s => s[n]).ToArray()).ToArray();
        var a = Rows(multi.NormalizedScores(decided.Select(x => x.p.SequenceA).ToList()));
        var b = Rows(multi.NormalizedScores(decided.Select(x => x.p.SequenceB).ToList()));
        var aWins = decided.Select(x => x.d > 0).ToArray();

        var fit = (A: a[..half], B: b[..half], W: aWins[..half]);
        var hold = (A: a[half..], B: b[half..], W: aWins[half..]);
        var weights = PrincipleWeights.Fit(config.Principles, fit.A, fit.B, fit.W);

        var accuracy = Scalarizers.All.ToDictionary(s => s.Name,
            s => ObjectiveAccuracy.Of(new ScalarizedReward(weights.Weights, s), hold.A, hold.B, hold.W));
        var single = new PreferenceModelReward([pms[Principle.Overall]], new ScalarizedReward([1.0], new WeightedLinear()));
        var singleA = single.Score(decided[half..].Select(x => x.p.SequenceA).ToList());
        var singleB = single.Score(decided[half..].Select(x => x.p.SequenceB).ToList());
        accuracy["single"] = hold.W.Select((w, i) => (singleA[i] > singleB[i]) == w ? 1.0 : 0.0).Average();

        var ablation = ObjectiveAccuracy.Ablation(config.Principles, (fit.A, fit.B, fit.W), (hold.A, hold.B, hold.W))
            .Select(x => new AblationPoint(x.Principles, x.Accuracy)).ToList();
        _log($"objective accuracy: {string.Join(", ", accuracy.Select(kv => $"{kv.Key} {kv.Value:F3}"))}");
        return (weights, accuracy, ablation);
    }

    private (PolicyModel, List<PpoIterationStats>) RunPpo(string arm, PolicyModel sft, WordTokenizer tokenizer, IRewardModel reward, CancellationToken cancel)
    {
        var policy = sft.Clone();
        policy.to(device);
        var reference = sft.Clone();
        reference.to(device);
        using var learner = new PpoLearner(policy, reference, reward, config.Ppo, Seed("ppo"));
        var stats = new List<PpoIterationStats>();
        while (learner.Iteration < config.Ppo.Iterations)
        {
            cancel.ThrowIfCancellationRequested();
            // Both arms see the same prompts in the same order: the same budget, spent on the same data.
            var prompts = Prompts.Sample(new Random(Seeds.Derive(config.Seed, "ppo-prompts", learner.Iteration)), config.Ppo.RolloutsPerIteration)
                .Select(p => tokenizer.EncodePrompt(p.Text)).ToList();
            var s = learner.Step(prompts);
            stats.Add(s);
            OnPpoIteration?.Invoke(arm, s);
        }
        Save($"ppo-{arm}.bin", learner.SaveCheckpoint);
        _log($"PPO {arm}: score {stats.FirstOrDefault()?.MeanScore:F3} -> {stats.LastOrDefault()?.MeanScore:F3}, KL {stats.LastOrDefault()?.MeanKl:F3}");
        return (policy, stats);
    }

    private EvaluationResult Evaluate(SyntheticJudge judge, WordTokenizer tokenizer, PolicyModel morlaif, PolicyModel baseline, PolicyModel sft)
    {
        var prompts = Prompts.Sample(new Random(Seed("evaluation")), config.Evaluation.Prompts);
        var ids = prompts.Select(p => tokenizer.EncodePrompt(p.Text)).ToList();
        List<string> Respond(PolicyModel policy)
        {
            using var g = new Generator((ulong)Seed("evaluation-sampling"), device);
            return Sampler.Generate(policy, ids, config.Ppo.MaxNewTokens, g).Select(tokenizer.Decode).ToList();
        }
        var responses = new Dictionary<string, List<string>>
        {
            [MorlaifArm] = Respond(morlaif),
            [BaselineArm] = Respond(baseline),
            ["sft"] = Respond(sft),
        };
        var tol = config.Evaluation.TieTolerance;
        return new EvaluationResult
        {
            Prompts = prompts.Count,
            VsBaseline = PolicyComparison.ByTruePreference(prompts, responses[MorlaifArm], responses[BaselineArm], tol),
            JudgeVsBaseline = PolicyComparison.ByJudge(judge, prompts, responses[MorlaifArm], responses[BaselineArm], new Random(Seed("evaluation-judge"))),
            MorlaifVsSft = PolicyComparison.ByTruePreference(prompts, responses[MorlaifArm], responses["sft"], tol),
            BaselineVsSft = PolicyComparison.ByTruePreference(prompts, responses[BaselineArm], responses["sft"], tol),
            PerPrinciple = config.Principles.ToDictionary(p => p, p => PolicyComparison.ByScore(p, prompts, responses[MorlaifArm], responses[BaselineArm], 1e-9)),
            MeanTrueScore = responses.ToDictionary(kv => kv.Key, kv => PolicyComparison.MeanScore(Principle.Overall, prompts, kv.Value)),
            MeanPrincipleScores = responses.ToDictionary(kv => kv.Key,
                kv => (IReadOnlyDictionary<string, double>)config.Principles.ToDictionary(p => p, p => PolicyComparison.MeanScore(p, prompts, kv.Value))),
            Samples = Enumerable.Range(0, Math.Min(6, prompts.Count))
                .Select(i => new SampleResponse(prompts[i].Text, responses[MorlaifArm][i], responses[BaselineArm][i], responses["sft"][i])).ToList(),
        };
    }

    private T Time<T>(string stage, Func<T> work)
    {
        var sw = Stopwatch.StartNew();
        _log($"stage {stage} ...");
        var result = work();
        _timings[stage] = sw.Elapsed.TotalSeconds;
        return result;
    }

    private void Time(string stage, Action work) => Time(stage, () => { work(); return 0; });

    /// <summary>A seed per purpose, so changing one stage's sizes does not reshuffle another stage's data.</summary>
    private int Seed(string purpose) => Seeds.Derive(config.Seed, purpose);

    private void Save(string name, Action<Stream> write)
    {
        if (CheckpointDirectory is null) return;
        Directory.CreateDirectory(CheckpointDirectory);
        var path = Path.Combine(CheckpointDirectory, name);
        using var file = File.Create(path);
        write(file);
    }
}
