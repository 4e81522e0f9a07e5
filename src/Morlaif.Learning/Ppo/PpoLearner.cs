using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

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
/// PPO against a frozen reference (the SFT policy), one iteration per <see cref="Step"/>: roll out and score the
/// responses, shape per-token rewards with the KL penalty -β (log π - log π_ref), estimate advantages with GAE, take the
/// clipped policy and value steps, then adapt β. The learner checkpoints between iterations, so a restarted learner
/// continues exactly where it stopped. The policy is an <see cref="IPpoPolicy"/> (the world's model with a frozen
/// clone, or a LoRA adapter on a Hugging Face base); the learner owns it: disposing the learner frees it and the
/// optimizer's state (native memory a long-lived worker would otherwise keep until a garbage collection).
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
        using var generator = new Generator((ulong)Seeds.Derive(_seed, "sampling", Iteration), _policy.Device);
        var rng = new Random(Seeds.Derive(_seed, "minibatches", Iteration));
        var (sequences, scores) = Rollout(prompts, generator);

        using var scope = NewDisposeScope();
        var batch = RolloutBatch.Create(prompts, sequences, _policy.Device);
        var old = Forward(batch);
        var (rewards, kl) = Rewards(scores, old, batch);
        var (advantages, returns) = Gae.Compute(rewards, old.Values, batch.Mask, _s.Gamma, _s.Lambda);
        advantages = Masked.Whiten(advantages.to(ScalarType.Float32), batch.Mask);
        returns = returns.to(ScalarType.Float32);
        var explainedVariance = Masked.ExplainedVariance(returns, old.Values, batch.Mask);
        var update = Optimize(batch, old, advantages, returns, rng);

        // The controller follows a sequence's KL (its tokens' summed), as trlx's does.
        var meanKl = kl.sum(1).cpu().data<double>().Average();
        Kl.Update(meanKl, batch.Size);
        Iteration++;
        return new PpoIterationStats(Iteration, scores.Average(), meanKl, Kl.Value, update.PolicyLoss, update.ValueLoss,
            LastResponses.Average(r => r.Length), update.ApproxKl, update.ClipFraction, old.Entropy, explainedVariance);
    }

    /// <summary>Sampled responses to <paramref name="prompts"/>, as whole sequences, and their scores (which update the running moments).</summary>
    private (List<int[]> Sequences, double[] Scores) Rollout(IReadOnlyList<int[]> prompts, Generator generator)
    {
        _policy.SetTraining(false);
        var responses = _policy.Generate(prompts, _s.MaxNewTokens, generator);
        LastResponses = responses;
        if (responses.FirstOrDefault(r => r.Length == 0) is not null)
            throw new InvalidOperationException("a rollout has no response token (a prompt fills the model's context?)");
        var sequences = prompts.Zip(responses, (p, r) => (int[])[.. p, .. r]).ToList();
        var scores = _reward.Score(sequences);
        RewardMoments.Update(scores);
        return (sequences, scores);
    }

    /// <summary>The rollout policy's log-probs and values of the actions, the reference's log-probs, and the policy's entropy per response token.</summary>
    private sealed record OldPolicy(Tensor LogProbs, Tensor Values, Tensor RefLogProbs, double Entropy);

    private OldPolicy Forward(RolloutBatch batch)
    {
        using var _ = no_grad();
        var (logits, values) = _policy.LogitsAndValues(batch.Tokens, batch.Valid);
        var logProbs = logits[.., ..^1].log_softmax(-1);
        var refLogProbs = TokenLogProbs(_policy.ReferenceLogits(batch.Tokens, batch.Valid), batch.Actions);
        var entropy = Masked.Mean(-(logProbs.exp() * logProbs).sum(-1), batch.Mask).item<float>();
        return new OldPolicy(ActionLogProbs(logProbs, batch.Actions), values[.., ..^1] * batch.Mask, refLogProbs, entropy);
    }

    /// <summary>
    /// Per-token rewards [B, T-1] in float64: -β (log π - log π_ref) on each response token and the sequence's score,
    /// scaled and clipped, added on its last; and the per-token KL itself (0 outside the responses).
    /// </summary>
    private (Tensor Rewards, Tensor Kl) Rewards(double[] scores, OldPolicy old, RolloutBatch batch)
    {
        var kl = ((old.LogProbs - old.RefLogProbs) * batch.Mask).to(ScalarType.Float64);
        var score = tensor(scores.Select(ScaledScore).ToArray(), device: kl.device).unsqueeze(1);
        return ((-Kl.Value * kl).scatter_add(1, batch.LastAction.unsqueeze(1), score), kl);
    }

    private double ScaledScore(double score)
    {
        // trlx's running scaling divides by the running std; constant rewards (std 0) are left unscaled.
        var scaled = _s.ScaleReward && RewardMoments.Std > 1e-6 ? score / RewardMoments.Std : score;
        return Math.Clamp(scaled, -_s.RewardClip, _s.RewardClip);
    }

    /// <summary>The means over the updates of the losses and of the update's health signs (see <see cref="PpoIterationStats"/>).</summary>
    private sealed record UpdateStats(double PolicyLoss, double ValueLoss, double ApproxKl, double ClipFraction);

    /// <summary>The PPO epochs: each a new shuffle of the rollouts into minibatches, one clipped step per minibatch.</summary>
    private UpdateStats Optimize(RolloutBatch batch, OldPolicy old, Tensor advantages, Tensor returns, Random rng)
    {
        _policy.SetTraining(true);
        double pgSum = 0, vfSum = 0, approxKlSum = 0, clippedSum = 0;
        var updates = 0;
        for (var epoch = 0; epoch < _s.Epochs; epoch++)
        {
            var order = TrainingSteps.Shuffled(batch.Size, rng);
            foreach (var chunk in order.Chunk((int)Math.Ceiling(batch.Size / (double)_s.MiniBatches)))
            {
                using var scope = NewDisposeScope();
                var idx = tensor(chunk.Select(i => (long)i).ToArray(), device: _policy.Device);
                var mb = batch.Rows(idx);
                var (logits, values) = _policy.LogitsAndValues(mb.Tokens, mb.Valid);
                var ratio = (TokenLogProbs(logits, mb.Actions) - old.LogProbs.index_select(0, idx)).exp();
                var pg = PpoLosses.Policy(ratio, advantages.index_select(0, idx), mb.Mask, _s.ClipRange);
                var vf = PpoLosses.Value(values[.., ..^1], old.Values.index_select(0, idx), returns.index_select(0, idx), mb.Mask, _s.ValueClipRange);
                _optimizer.ClippedStep(_policy.Trainable.Values, pg + _s.ValueCoef * vf);
                pgSum += pg.item<float>();
                vfSum += vf.item<float>();
                using (no_grad())
                {
                    var r = ratio.detach();
                    approxKlSum += Masked.Mean(r - 1 - r.log(), mb.Mask).item<float>();
                    clippedSum += Masked.Mean(((r - 1).abs() > _s.ClipRange).to(ScalarType.Float32), mb.Mask).item<float>();
                }
                updates++;
            }
        }
        _policy.SetTraining(false);
        return new UpdateStats(pgSum / updates, vfSum / updates, approxKlSum / updates, clippedSum / updates);
    }

    /// <summary>log π(a_t | s_t) [B, T-1] for logits [B, T, V] and the actions that followed, tokens[:, 1:].</summary>
    private static Tensor TokenLogProbs(Tensor logits, Tensor actions) => ActionLogProbs(logits[.., ..^1].log_softmax(-1), actions);

    /// <summary>The actions' entries of log-probabilities [B, T-1, V].</summary>
    private static Tensor ActionLogProbs(Tensor logProbs, Tensor actions) => logProbs.gather(2, actions.unsqueeze(2)).squeeze(2);

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

    public void Dispose()
    {
        _optimizer.Dispose();
        _policy.Dispose();
    }
}
