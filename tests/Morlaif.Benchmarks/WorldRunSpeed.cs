using System.Diagnostics;
using Morlaif.Cli;
using Morlaif.Learning.Runs;
using Morlaif.Learning.World;
using Morlaif.Storage;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>
/// The default world run (`morlaif run`, seed 1) through the embedded pipeline in this process, against the time its
/// arithmetic takes at the matmul peak. The FLOPs are counted from the config (6 x parameters x tokens to train, 2 x to
/// run a model forward) with the world's mean sequence length, measured on its demonstrations: an estimate of the work,
/// not of what the pipeline may skip.
/// </summary>
internal static class WorldRunSpeed
{
    public static IEnumerable<SpeedCase> Cases => [new("world_run_seconds", Run)];

    private static SpeedFigure Run(SpeedLimits limits)
    {
        var config = new RunConfig();
        var root = Path.Combine(Path.GetTempPath(), $"morlaif-speed-{Guid.NewGuid():N}");
        var threads = get_num_threads();
        try
        {
            var clock = Stopwatch.StartNew();
            var manifest = Task.Run(async () =>
            {
                await using var pipeline = await EmbeddedPipeline.StartAsync(root, "cpu", new CliLogging(Console: false),
                    EmbeddedPipeline.StageConcurrencyFor(config, "cpu"));
                var runId = await pipeline.StartRunAsync(config);
                return await pipeline.WaitAsync(runId, CancellationToken.None);
            }).GetAwaiter().GetResult();
            var seconds = clock.Elapsed.TotalSeconds;
            if (manifest.State != RunState.Completed) throw new InvalidOperationException($"the world run ended {manifest.State}: {manifest.Error}");
            var flops = Flops(config);
            Console.WriteLine($"  world run: {flops / 1e12:F2} TFLOP of work (estimate), {seconds:F0} s");
            return new SpeedFigure(seconds, "s", flops / limits.MatmulFlops, GpuBytes(config));
        }
        finally
        {
            set_num_threads(threads); // the embedded pipeline shares the cores out among its stages
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Mean tokens of a world sequence (bos prompt sep response eos), over 2,000 of the SFT demonstrations.</summary>
    private static double MeanTokens()
    {
        var tokenizer = new WordTokenizer(Catalog.AllTexts());
        var rng = new Random(1);
        return Prompts.Sample(rng, 2000).Average(p => tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)).Ids.Length);
    }

    /// <summary>The run's arithmetic: SFT, pair sampling, PM training and scoring, the fit, PPO and the evaluation.</summary>
    public static double Flops(RunConfig c)
    {
        var m = c.Model;
        var vocab = new WordTokenizer(Catalog.AllTexts()).VocabSize;
        double trunk = m.Layers * 12.0 * m.DModel * m.DModel, policy = trunk + (double)m.DModel * vocab;
        var tokens = MeanTokens();
        var pms = c.Principles.Length + 1;
        var p = c.Pairs;
        var pairs = (double)(p.Train + p.Test + p.Human + p.Accuracy);
        var sft = 6 * policy * c.Sft.Demonstrations * c.Sft.Epochs * tokens;
        var sampling = 2 * policy * pairs * 2 * tokens;
        // Each PM: epochs over the training pairs, then its held-out pairs (judge and truth) and its training pairs scored.
        var pmTraining = pms * (6 * trunk * p.Train * 2 * c.PreferenceModel.Epochs * tokens + 2 * trunk * (p.Test * 4 + p.Train * 2) * tokens);
        var fit = pms * 2 * trunk * (p.Human + p.Accuracy) * 2 * tokens;
        // Per PPO iteration: sampling, the reference's and the policy's log-probabilities, the arm's PMs, the epochs.
        var ppo = c.PolicyArms.Sum(arm =>
        {
            var armPms = arm.Reward == "morlaif" ? c.Principles.Length : 1;
            var perRollout = 2 * policy * tokens * 3 + 2 * trunk * tokens * armPms + 6 * policy * tokens * c.Ppo.Epochs;
            return c.Ppo.Iterations * c.Ppo.RolloutsPerIteration * perRollout;
        });
        var evaluation = 2 * policy * c.Evaluation.Prompts * c.EvaluationSamples * (c.PolicyArms.Count + 1) * tokens;
        return sft + sampling + pmTraining + fit + ppo + evaluation;
    }

    /// <summary>On a GPU the stages run one by one: the largest is a PPO learner's policy, reference and AdamW state beside eight PMs.</summary>
    private static double GpuBytes(RunConfig c)
    {
        var m = c.Model;
        var vocab = new WordTokenizer(Catalog.AllTexts()).VocabSize;
        double trunk = m.Layers * 12.0 * m.DModel * m.DModel + (m.ContextLength + vocab) * (double)m.DModel, policy = trunk + (double)m.DModel * vocab;
        var weights = 4 * (policy * 4 + trunk * (c.Principles.Length + 1)); // policy, its grads, AdamW's two moments; the reference is the PMs' size
        var activations = 4.0 * c.Ppo.RolloutsPerIteration / c.Ppo.MiniBatches * m.ContextLength * (m.Layers * 16 * m.DModel + vocab);
        return weights + activations;
    }
}
