using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Training;
using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Devices;

/// <summary>
/// Every tensor the learning code makes must be on the device of the data it meets, or `--device cuda`
/// fails on its first step (TransformerTrunk's attention mask once made its positions on the CPU). No GPU
/// is needed to catch that: with torch's default device set to meta, a factory that names no device
/// (arange, zeros, tensor(...), ...) makes a meta tensor, and an op that combines it with the model's CPU
/// tensors throws "Expected all tensors to be on the same device, but found at least two devices, meta and
/// cpu" (stricter than CUDA even: a meta 0-d tensor does not mix with CPU tensors either). The models and
/// data stay on the CPU, so everything really runs: values, item(), sampling, backward, AdamW, checkpoints.
///
/// Why not the model itself on meta, as one would first try: libtorch 2.10's C++ build has no meta kernels
/// for layer_norm (native_batch_norm), scaled_dot_product_attention (where.self), index_select or
/// multinomial, and a meta tensor has no values for item() or cpu(), which sampling, clip_grad_norm_ and
/// the PPO statistics need; a forward pass of this transformer cannot run on meta at all.
/// What the trap cannot see: a tensor made explicitly on the CPU (`device: CPU`) where the data may be
/// elsewhere, and host reads (data&lt;T&gt;()) of device tensors without cpu(); those need a GPU run.
/// </summary>
[Collection(nameof(ProcessWideTorchState))]
public class DeviceTests
{
    private static readonly Device Meta = new("meta");

    private static void WithMetaDefault(Action action)
    {
        var before = get_default_device();
        set_default_device(Meta);
        try
        {
            action();
        }
        finally
        {
            set_default_device(before);
        }
    }

    [Fact]
    public void The_trap_springs_on_a_tensor_made_without_a_device()
    {
        var e = Assert.ThrowsAny<Exception>(() => WithMetaDefault(() => _ = ones(3, device: CPU) + arange(3)));
        Assert.Contains("meta and cpu", e.Message);
    }

    [Fact]
    public void Forward_passes_and_generation_with_the_kv_cache_make_nothing_off_device()
    {
        var policy = Tiny.Policy(1);
        WithMetaDefault(() =>
        {
            var prompt = Tiny.Tokenizer.EncodePrompt("what is the capital of japan ?");
            var longer = Tiny.Tokenizer.EncodePrompt("what is the capital of france and why is it famous ?");
            var right = SequenceBatch.RightPadded([prompt, longer], CPU);
            var left = SequenceBatch.LeftPadded([prompt, longer], CPU);
            _ = policy.Logits(right.Tokens, right.Valid);
            _ = policy.LogitsAndValues(left.Tokens, left.Valid);
            var pm = PreferenceModel.FromPolicy(policy);
            _ = pm.Score(right.Tokens, right.Valid, right.LastIndex);
            _ = pm.ScoreAll([prompt, longer]);
            using var g = new Generator(1, CPU);
            var responses = Sampler.Generate(policy, [prompt, longer], 6, g);
            Assert.Equal(2, responses.Count);
            _ = policy.Clone();
        });
    }

    [Fact]
    public void A_ppo_step_and_its_checkpoints_make_nothing_off_device()
    {
        var ctx = new WorldRun(RunConfig.Parse("""{ "model": { "dModel": 16, "layers": 1, "heads": 2 }, "ppo": { "rolloutsPerIteration": 6, "maxNewTokens": 5 } }"""), CPU);
        var sft = ctx.NewPolicy();
        var reward = new LengthReward();
        WithMetaDefault(() =>
        {
            using var learner = PpoStage.Learner(ctx, sft, reward);
            var stats = new List<PpoIterationStats> { PpoStage.Iterate(ctx, learner) };
            var (resumed, done) = PpoStage.LoadProgress(ctx, sft, reward, PpoStage.SaveProgress(learner, stats));
            using (resumed)
            {
                Assert.Single(done);
                PpoStage.Iterate(ctx, resumed);
                using var again = PpoStage.Learner(ctx, sft, reward, resumed.SaveCheckpoint());
                Assert.Equal(2, again.Iteration);
                WorldPpoPolicy.LoadModel(again.SaveCheckpoint(), ctx.NewPolicy());
            }
        });
    }

    [Fact]
    public void Pm_and_sft_training_steps_and_their_checkpoints_make_nothing_off_device()
    {
        var policy = Tiny.Policy(2);
        var rng = new Random(2);
        var pairs = Enumerable.Range(0, 12).Select(_ =>
        {
            var p = Prompts.Sample(rng);
            return new PreferencePair(Tiny.Tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)).Ids,
                Tiny.Tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng)).Ids, rng.Next(2), 0.5);
        }).ToList();
        var demos = Enumerable.Range(0, 8).Select(_ =>
        {
            var p = Prompts.Sample(rng);
            var x = Tiny.Tokenizer.EncodePair(p.Text, Demonstrator.Respond(p, rng));
            return new Demonstration(x.Ids, x.ResponseStart);
        }).ToList();
        WithMetaDefault(() =>
        {
            var settings = new PmSettings(Epochs: 2, BatchSize: 8);
            using var trainer = new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(policy), pairs, settings, seed: 2);
            trainer.RunEpoch();
            using var resumed = new PreferenceModelTrainer<PreferenceModel>(PreferenceModel.FromPolicy(policy), pairs, settings, seed: 2);
            resumed.LoadCheckpoint(trainer.SaveCheckpoint());
            resumed.RunEpoch();
            _ = PreferenceModelTraining.Accuracy(resumed.Model, pairs);
            SupervisedFineTuning.Train(policy, demos, new SftSettings(Epochs: 1, BatchSize: 4, LearningRate: 1e-3), rng);
        });
    }

    /// <summary>Every stage in one process, at toy sizes: what the focused tests above miss, this finds.</summary>
    [Fact]
    public void A_whole_run_makes_nothing_off_device()
    {
        var config = RunConfig.Parse("""
            {
              "seed": 5,
              "model": { "dModel": 16, "layers": 1, "heads": 2 },
              "sft": { "demonstrations": 64, "epochs": 1 },
              "pairs": { "train": 40, "test": 24, "human": 24, "accuracy": 40 },
              "preferenceModel": { "epochs": 1 },
              "ppo": { "iterations": 2, "rolloutsPerIteration": 8, "maxNewTokens": 6 },
              "evaluation": { "prompts": 8 }
            }
            """);
        RunReport? report = null;
        WithMetaDefault(() => report = new ReferenceRun(config, CPU).Execute("devices"));
        Assert.Equal(2, report!.Ppo["morlaif"].Count);
    }

    private sealed class LengthReward : IRewardModel
    {
        public double[] Score(IReadOnlyList<int[]> sequences) => sequences.Select(s => s.Count(id => id > WordTokenizer.Unk) / 10.0).ToArray();
    }
}
