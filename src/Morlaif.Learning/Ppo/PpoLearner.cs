using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Models;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>What one PPO iteration did, for logs and reports.</summary>
/// <summary>
/// One PPO iteration as it can be judged: the proxy reward (MeanScore) and the KL penalty's state, the losses, and the
/// usual health signs of a PPO update: ApproxKl (the mean of (r - 1) - log r over the updates, r the new/old probability
/// ratio), ClipFraction (tokens whose ratio left the clip range), Entropy (of the rollout policy, per response token),
/// ExplainedVariance (of the returns by the value head before the update). Truth holds what the task can say about the
/// rollouts beyond the proxy (the world: the true preference and each principle's score; empty elsewhere).
/// </summary>
public sealed record PpoIterationStats(int Iteration, double MeanScore, double MeanKl, double KlCoef, double PolicyLoss, double ValueLoss, double MeanResponseTokens,
    double ApproxKl = double.NaN, double ClipFraction = double.NaN, double Entropy = double.NaN, double ExplainedVariance = double.NaN,
    IReadOnlyDictionary<string, double>? Truth = null);

/// <summary>
/// PPO against a frozen reference (the SFT policy): sample rollouts, score them at the end of the
/// response, add the per-token KL penalty -β (log π - log π_ref), estimate advantages with GAE, and take
/// clipped policy and value steps. One call of <see cref="Step"/> is one bounded chunk of work, and the
/// learner checkpoints between chunks, so a restarted learner continues exactly where it stopped.
/// The policy is an <see cref="IPpoPolicy"/>: the world's whole model with a frozen clone as reference, or a LoRA
/// adapter on a Hugging Face base whose reference is the base with the adapter off. The learner owns it: disposing
/// the learner frees it and the optimizer's state (native memory a long-lived worker would otherwise keep until a
/// garbage collection), except a world policy taken out with <see cref="TakePolicy"/>.
/// </summary>
public sealed class PpoLearner : IDisposable
{
    private readonly IPpoPolicy _policy;
    private readonly IRewardModel _reward;
    private readonly PpoSettings _s;
    private readonly long _seed;
    private readonly TorchSharp.Modules.AdamW _optimizer;

    public AdaptiveKlController Kl { get; }
    public RunningMoments RewardMoments { get; } = new();
    public int Iteration { get; private set; }

    /// <summary>The responses of the last iteration's rollouts, in prompt order (what a task scores beyond the proxy reward).</summary>
    public IReadOnlyList<int[]> LastResponses { get; private set; } = [];
    public IPpoPolicy Actor => _policy;

    /// <summary>The world's policy being trained (its value head included).</summary>
    public PolicyModel Policy => World.Model;

    /// <summary>The synthetic world's PPO: <paramref name="policy"/> is trained, <paramref name="reference"/> (a copy of the SFT policy) stays frozen.</summary>
    public PpoLearner(PolicyModel policy, PolicyModel reference, IRewardModel reward, PpoSettings settings, long seed)
        : this(new WorldPpoPolicy(policy, reference), reward, settings, seed)
    {
    }

    public PpoLearner(IPpoPolicy policy, IRewardModel reward, PpoSettings settings, long seed)
    {
        _policy = policy;
        _reward = reward;
        _s = settings;
        _seed = seed;
        _optimizer = optim.AdamW(policy.Trainable.Values, settings.LearningRate, settings.Beta1, settings.Beta2);
        Kl = new AdaptiveKlController(settings.InitKlCoef, settings.KlTarget, settings.KlHorizon);
    }

    /// <summary>One iteration: rollouts for <paramref name="prompts"/> (bos prompt sep), then the PPO epochs.</summary>
    public PpoIterationStats Step(IReadOnlyList<int[]> prompts)
    {
        // Seeds derive from (seed, iteration) so a resumed learner samples what the uninterrupted one would have.
        var device = _policy.Device;
        using var generator = new Generator((ulong)Seeds.Derive(_seed, "sampling", Iteration), device);
        var rng = new Random(Seeds.Derive(_seed, "minibatches", Iteration));
        _policy.SetTraining(false);
        var responses = _policy.Generate(prompts, _s.MaxNewTokens, generator);
        LastResponses = responses;
        if (responses.FirstOrDefault(r => r.Length == 0) is not null)
            throw new InvalidOperationException("a rollout has no response token (a prompt fills the model's context?)");
        var sequences = prompts.Zip(responses, (p, r) => (int[])[.. p, .. r]).ToList();
        var scores = _reward.Score(sequences);
        RewardMoments.Update(scores);

        using var scope = NewDisposeScope();
        var batch = SequenceBatch.RightPadded(sequences, device);
        var b = sequences.Count;
        var width = (int)batch.Tokens.shape[1] - 1;
        var actions = batch.Tokens[.., 1..];
        var maskArr = new float[b * width];
        for (var i = 0; i < b; i++)
            for (var j = prompts[i].Length - 1; j < sequences[i].Length - 1; j++) maskArr[i * width + j] = 1;
        var mask = tensor(maskArr, [b, width], device: device);

        Tensor oldLogp, oldValues, refLogp;
        double entropy;
        using (no_grad())
        {
            var (logits, values) = _policy.LogitsAndValues(batch.Tokens, batch.Valid);
            var logProbs = logits[.., ..^1].log_softmax(-1);
            oldLogp = ActionLogProbs(logProbs, actions);
            oldValues = values[.., ..^1] * mask;
            refLogp = TokenLogProbs(_policy.ReferenceLogits(batch.Tokens, batch.Valid), actions);
            entropy = MaskedMean(-(logProbs.exp() * logProbs).sum(-1), mask).item<float>();
        }

        var klPerToken = ((oldLogp - refLogp) * mask).cpu().to(ScalarType.Float64).data<double>().ToArray();
        var valuesArr = oldValues.cpu().to(ScalarType.Float64).data<double>().ToArray();
        var advArr = new float[b * width];
        var retArr = new float[b * width];
        var seqKl = new double[b];
        for (var i = 0; i < b; i++)
        {
            var start = prompts[i].Length - 1;
            var len = sequences[i].Length - 1 - start;
            // trlx's running scaling divides by the running std; constant rewards (std 0) are left unscaled.
            var score = _s.ScaleReward && RewardMoments.Std > 1e-6 ? scores[i] / RewardMoments.Std : scores[i];
            score = Math.Clamp(score, -_s.RewardClip, _s.RewardClip);
            var rewards = new double[len];
            var vals = new double[len];
            for (var t = 0; t < len; t++)
            {
                var kl = klPerToken[i * width + start + t];
                seqKl[i] += kl;
                rewards[t] = -Kl.Value * kl;
                vals[t] = valuesArr[i * width + start + t];
            }
            rewards[len - 1] += score;
            var (adv, ret) = Gae.Compute(rewards, vals, _s.Gamma, _s.Lambda);
            for (var t = 0; t < len; t++)
            {
                advArr[i * width + start + t] = (float)adv[t];
                retArr[i * width + start + t] = (float)ret[t];
            }
        }
        var advantages = Whiten(tensor(advArr, [b, width], device: device), mask);
        var returns = tensor(retArr, [b, width], device: device);
        var explainedVariance = ExplainedVariance(returns, oldValues, mask);

        _policy.SetTraining(true);
        double pgSum = 0, vfSum = 0, approxKlSum = 0, clippedSum = 0;
        var updates = 0;
        for (var epoch = 0; epoch < _s.Epochs; epoch++)
        {
            var order = TrainingSteps.Shuffled(b, rng);
            foreach (var chunk in order.Chunk((int)Math.Ceiling(b / (double)_s.MiniBatches)))
            {
                using var inner = NewDisposeScope();
                var idx = tensor(chunk.Select(i => (long)i).ToArray(), device: device);
                var (logits, values) = _policy.LogitsAndValues(batch.Tokens.index_select(0, idx), batch.Valid.index_select(0, idx));
                var m = mask.index_select(0, idx);
                var logp = TokenLogProbs(logits, actions.index_select(0, idx));
                var v = values[.., ..^1];
                var a = advantages.index_select(0, idx);
                var ratio = (logp - oldLogp.index_select(0, idx)).exp();
                var pg = MaskedMean(maximum(-a * ratio, -a * ratio.clamp(1 - _s.ClipRange, 1 + _s.ClipRange)), m);
                var vOld = oldValues.index_select(0, idx);
                var ret = returns.index_select(0, idx);
                var vClipped = vOld + (v - vOld).clamp(-_s.ValueClipRange, _s.ValueClipRange);
                var vf = 0.5 * MaskedMean(maximum((v - ret).square(), (vClipped - ret).square()), m);
                var loss = pg + _s.ValueCoef * vf;
                _optimizer.ClippedStep(_policy.Trainable.Values, loss);
                pgSum += pg.item<float>();
                vfSum += vf.item<float>();
                using (no_grad())
                {
                    var r = ratio.detach();
                    approxKlSum += MaskedMean(r - 1 - r.log(), m).item<float>();
                    clippedSum += MaskedMean(((r - 1).abs() > _s.ClipRange).to(ScalarType.Float32), m).item<float>();
                }
                updates++;
            }
        }

        _policy.SetTraining(false);
        var meanKl = seqKl.Average();
        Kl.Update(meanKl, b);
        Iteration++;
        return new PpoIterationStats(Iteration, scores.Average(), meanKl, Kl.Value, pgSum / updates, vfSum / updates,
            responses.Average(r => r.Length), approxKlSum / updates, clippedSum / updates, entropy, explainedVariance);
    }

    /// <summary>log π(a_t | s_t) [B, T-1] for logits [B, T, V] and the actions that followed, tokens[:, 1:].</summary>
    private static Tensor TokenLogProbs(Tensor logits, Tensor actions) => ActionLogProbs(logits[.., ..^1].log_softmax(-1), actions);

    /// <summary>The actions' entries of log-probabilities [B, T-1, V].</summary>
    private static Tensor ActionLogProbs(Tensor logProbs, Tensor actions) => logProbs.gather(2, actions.unsqueeze(2)).squeeze(2);

    private static Tensor MaskedMean(Tensor x, Tensor mask) => (x * mask).sum() / mask.sum().clamp_min(1);

    /// <summary>1 - Var(returns - values) / Var(returns) over the response tokens: 1 is a perfect value head, 0 no better than a constant.</summary>
    private static double ExplainedVariance(Tensor returns, Tensor values, Tensor mask)
    {
        using var _ = no_grad();
        Tensor Var(Tensor x) => MaskedMean((x - MaskedMean(x, mask)).square(), mask);
        var total = Var(returns).item<float>();
        return total < 1e-12 ? double.NaN : 1 - Var(returns - values).item<float>() / total;
    }

    private static Tensor Whiten(Tensor x, Tensor mask)
    {
        var mean = MaskedMean(x, mask);
        var variance = MaskedMean((x - mean).square(), mask);
        return (x - mean) * (variance + 1e-8).rsqrt() * mask;
    }

    /// <summary>The checkpoint's kind: the policy's state (see <see cref="IPpoPolicy.State"/>), AdamW's state, and <see cref="LearnerState"/>.</summary>
    public const string CheckpointKind = "ppo-learner";

    /// <summary>The learner's scalars, as the checkpoint's JSON state.</summary>
    public sealed record LearnerState(int Iteration, double KlCoef, double RewardMean, double RewardVariance, long RewardCount);

    /// <summary>Policy (with value head), optimizer state, KL coefficient, reward moments and iteration.</summary>
    public Checkpoint ToCheckpoint()
    {
        var c = new Checkpoint(CheckpointKind);
        c.SetState(new LearnerState(Iteration, Kl.Value, RewardMoments.Mean, RewardMoments.Variance, RewardMoments.Count));
        c.AddTensors(_policy.State);
        c.AddOptimizer(_optimizer, _policy.Trainable);
        return c;
    }

    public byte[] SaveCheckpoint()
    {
        using var c = ToCheckpoint();
        return c.ToBytes();
    }

    /// <summary>Reads only the policy (with its value head) out of a checkpoint, e.g. to evaluate it.</summary>
    public static void LoadPolicy(byte[] checkpoint, PolicyModel policy)
    {
        using var c = Checkpoint.FromBytes(checkpoint, CheckpointKind);
        c.LoadModule(policy);
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> into this learner.</summary>
    public void LoadCheckpoint(byte[] checkpoint)
    {
        using var c = Checkpoint.FromBytes(checkpoint, CheckpointKind);
        Restore(c);
    }

    /// <summary>Restores a checkpoint of <see cref="CheckpointKind"/> (see <see cref="ToCheckpoint"/>) into this learner.</summary>
    public void Restore(Checkpoint checkpoint)
    {
        var state = checkpoint.GetState<LearnerState>();
        checkpoint.LoadTensors(_policy.State);
        checkpoint.LoadOptimizer(_optimizer, _policy.Trainable);
        Iteration = state.Iteration;
        Kl.Restore(state.KlCoef);
        RewardMoments.Restore(state.RewardMean, state.RewardVariance, state.RewardCount);
    }

    /// <summary>The trained world policy, for the caller to keep (and dispose): the learner no longer frees it.</summary>
    public PolicyModel TakePolicy() => World.Take();

    private WorldPpoPolicy World => _policy as WorldPpoPolicy
        ?? throw new InvalidOperationException($"this learner trains a {_policy.GetType().Name}, not the world's PolicyModel");

    public void Dispose()
    {
        _optimizer.Dispose();
        _policy.Dispose();
    }
}
