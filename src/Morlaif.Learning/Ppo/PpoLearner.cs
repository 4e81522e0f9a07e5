using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.Ppo;

/// <summary>
/// One RL iteration as it can be judged: the proxy reward (MeanScore) and the KL penalty's state, the losses, and the
/// usual health signs of a clipped policy update: ApproxKl (the mean of (r - 1) - log r over the updates, r the new/old
/// probability ratio), ClipFraction (tokens whose ratio left the clip range), Entropy (of the rollout policy, per
/// response token), ExplainedVariance (of the returns by the value head before the update; PPO only, as ValueLoss:
/// NaN without a value head). PrincipleRewards holds each of the reward's PMs' mean and sd on the rollouts; Truth what
/// the task can say about the rollouts beyond the proxy (the world: the true preference and each principle's score).
/// </summary>
public sealed record PpoIterationStats(int Iteration, double MeanScore, double MeanKl, double KlCoef, double PolicyLoss, double ValueLoss, double MeanResponseTokens,
    double ApproxKl = double.NaN, double ClipFraction = double.NaN, double Entropy = double.NaN, double ExplainedVariance = double.NaN,
    IReadOnlyDictionary<string, double>? Truth = null)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, PrincipleReward>? PrincipleRewards { get; init; }

    /// <summary>The judge's check of the policy after this iteration, per principle (<see cref="PolicyMonitor"/>), where one was due.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, MonitorVerdict>? Monitor { get; init; }
}

/// <summary>
/// The RL stage's learner against a frozen reference (the SFT policy), one iteration per <see cref="Step"/>: roll out
/// and score the responses, estimate advantages, take clipped policy steps on them. The algorithm
/// (<see cref="PpoSettings.Algorithm"/>) decides the advantages and where the KL to the reference enters:
/// <list type="bullet">
/// <item>PPO (the paper's): per-token rewards with the KL penalty -β (log π - log π_ref), β adapted to a KL target,
/// advantages by GAE on a value head that is trained alongside.</item>
/// <item>GRPO: <see cref="PpoSettings.GroupSize"/> samples per prompt, each sample's advantage its reward standardised
/// within its group (<see cref="GroupAdvantages.Standardized"/>), no value head; the KL is a loss term,
/// β (<see cref="PpoSettings.KlLossCoef"/>) times trl GRPOTrainer's k3 estimator exp(log π_ref - log π) - (log π_ref -
/// log π) - 1 per token (Schulman's: unbiased and never negative), averaged over the batch's tokens as trl's "dapo"/"bnpo"
/// losses are.</item>
/// <item>RLOO: the same groups, the KL in the reward as PPO has it (the sequence's score minus β times its summed KL,
/// β adapted as PPO's), each sample's advantage that reward minus the mean of its group's others
/// (<see cref="GroupAdvantages.LeaveOneOut"/>), no value head.</item>
/// </list>
/// The learner checkpoints between iterations, so a restarted learner continues exactly where it stopped. The policy is
/// an <see cref="IPpoPolicy"/> (the world's model with a frozen clone, or a LoRA adapter on a Hugging Face base); the
/// learner owns it: disposing the learner frees it and the optimizer's state (native memory a long-lived worker would
/// otherwise keep until a garbage collection).
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

    /// <summary>
    /// One iteration: rollouts for <paramref name="prompts"/> (bos prompt sep), then the update's epochs. GRPO and RLOO
    /// read consecutive runs of <see cref="PpoSettings.GroupSize"/> prompts as one prompt's group.
    /// </summary>
    public PpoIterationStats Step(IReadOnlyList<int[]> prompts)
    {
        if (prompts.Count % _s.PromptGroup != 0)
            throw new ArgumentException($"{prompts.Count} rollouts do not split into groups of {_s.PromptGroup} ({_s.Algorithm})", nameof(prompts));
        // Seeds derive from (seed, iteration) so a resumed learner samples what the uninterrupted one would have.
        using var generator = new Generator((ulong)Seeds.Derive(_seed, "sampling", Iteration), _policy.Device);
        var rng = new Random(Seeds.Derive(_seed, "minibatches", Iteration));
        var (sequences, rewards) = Rollout(prompts, generator);
        var scores = rewards.Rewards;

        using var scope = NewDisposeScope();
        var batch = RolloutBatch.Create(prompts, sequences, _policy.Device);
        var old = Forward(batch);
        var kl = ((old.LogProbs - old.RefLogProbs) * batch.Mask).to(ScalarType.Float64);
        var (advantages, returns, explainedVariance) = Advantages(scores, old, batch, kl);
        var update = Optimize(batch, old, advantages, returns, rng);

        // The controller follows a sequence's KL (its tokens' summed), as trlx's does; GRPO's β is a fixed loss weight.
        var meanKl = kl.sum(1).cpu().data<double>().Average();
        if (_s.Algorithm != RlAlgorithm.Grpo) Kl.Update(meanKl, batch.Size);
        Iteration++;
        return new PpoIterationStats(Iteration, scores.Average(), meanKl, _s.Algorithm == RlAlgorithm.Grpo ? _s.KlLossCoef : Kl.Value, update.PolicyLoss,
            update.ValueLoss, LastResponses.Average(r => r.Length), update.ApproxKl, update.ClipFraction, old.Entropy, explainedVariance)
        { PrincipleRewards = rewards.Principles };
    }

    /// <summary>
    /// Per-token advantages [B, T-1] (float32, 0 outside the responses), the value head's returns (PPO; else null) and
    /// how much of them its values explained before the update.
    /// </summary>
    private (Tensor Advantages, Tensor? Returns, double ExplainedVariance) Advantages(double[] scores, OldPolicy old, RolloutBatch batch, Tensor kl)
    {
        switch (_s.Algorithm)
        {
            case RlAlgorithm.Ppo:
            {
                var rewards = (-Kl.Value * kl).scatter_add(1, batch.LastAction.unsqueeze(1), tensor(scores.Select(ScaledScore).ToArray(), device: kl.device).unsqueeze(1));
                var (advantages, returns) = Gae.Compute(rewards, old.Values!, batch.Mask, _s.Gamma, _s.Lambda);
                returns = returns.to(ScalarType.Float32);
                return (Masked.Whiten(advantages.to(ScalarType.Float32), batch.Mask), returns, Masked.ExplainedVariance(returns, old.Values!, batch.Mask));
            }
            case RlAlgorithm.Grpo:
                return (PerSequence(GroupAdvantages.Standardized(scores, _s.GroupSize), batch), null, double.NaN);
            case RlAlgorithm.Rloo:
            {
                // The KL in the reward, as PPO's: the scaled, clipped score minus β times the sequence's summed KL.
                var klSums = kl.sum(1).cpu().data<double>().ToArray();
                var rewards = scores.Select((s, i) => ScaledScore(s) - Kl.Value * klSums[i]).ToArray();
                return (PerSequence(GroupAdvantages.LeaveOneOut(rewards, _s.GroupSize), batch), null, double.NaN);
            }
            default:
                throw new InvalidOperationException($"unknown algorithm '{_s.Algorithm}' (known: {string.Join(", ", RlAlgorithm.All)})");
        }
    }

    /// <summary>One advantage per sequence, on every one of its response tokens.</summary>
    private static Tensor PerSequence(double[] advantages, RolloutBatch batch) =>
        tensor(advantages.Select(a => (float)a).ToArray(), device: batch.Mask.device).unsqueeze(1) * batch.Mask;

    /// <summary>Sampled responses to <paramref name="prompts"/>, as whole sequences, and their rewards (which update the running moments).</summary>
    private (List<int[]> Sequences, RolloutRewards Rewards) Rollout(IReadOnlyList<int[]> prompts, Generator generator)
    {
        _policy.SetTraining(false);
        var responses = _policy.Generate(prompts, _s.MaxNewTokens, generator);
        LastResponses = responses;
        if (responses.FirstOrDefault(r => r.Length == 0) is not null)
            throw new InvalidOperationException("a rollout has no response token (a prompt fills the model's context?)");
        var sequences = prompts.Zip(responses, (p, r) => (int[])[.. p, .. r]).ToList();
        // PPO has no groups: "group" normalisation standardises over its whole batch.
        var rewards = _reward.ScoreRollouts(sequences, _s.CriticFree ? _s.GroupSize : sequences.Count, _s.RewardNormalization);
        RewardMoments.Update(rewards.Rewards);
        return (sequences, rewards);
    }

    /// <summary>
    /// The rollout policy's log-probs of the actions (and its values, where it has a value head), the reference's
    /// log-probs, and the policy's entropy per response token.
    /// </summary>
    private sealed record OldPolicy(Tensor LogProbs, Tensor? Values, Tensor RefLogProbs, double Entropy);

    private OldPolicy Forward(RolloutBatch batch)
    {
        using var _ = no_grad();
        var (logits, values) = PolicyForward(batch);
        var logProbs = logits[.., ..^1].log_softmax(-1);
        var refLogProbs = TokenLogProbs(_policy.ReferenceLogits(batch.Tokens, batch.Valid), batch.Actions);
        var entropy = Masked.Mean(-(logProbs.exp() * logProbs).sum(-1), batch.Mask).item<float>();
        return new OldPolicy(ActionLogProbs(logProbs, batch.Actions), values is null ? null : values[.., ..^1] * batch.Mask, refLogProbs, entropy);
    }

    /// <summary>The policy's logits, and its values where the algorithm has a value head.</summary>
    private (Tensor Logits, Tensor? Values) PolicyForward(RolloutBatch batch) =>
        _s.CriticFree ? (_policy.Logits(batch.Tokens, batch.Valid), null) : _policy.LogitsAndValues(batch.Tokens, batch.Valid);

    private double ScaledScore(double score)
    {
        // trlx's running scaling divides by the running std; constant rewards (std 0) are left unscaled.
        var scaled = _s.ScaleReward && RewardMoments.Std > 1e-6 ? score / RewardMoments.Std : score;
        return Math.Clamp(scaled, -_s.RewardClip, _s.RewardClip);
    }


    /// <summary>
    /// The update's epochs: each a new shuffle of the rollouts into minibatches, one clipped step per minibatch (with
    /// PPO's value loss, or GRPO's KL term).
    /// </summary>
    private UpdateStats Optimize(RolloutBatch batch, OldPolicy old, Tensor advantages, Tensor? returns, Random rng)
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
                var (logits, values) = PolicyForward(mb);
                var logProbs = TokenLogProbs(logits, mb.Actions);
                var ratio = (logProbs - old.LogProbs.index_select(0, idx)).exp();
                var pg = PpoLosses.Policy(ratio, advantages.index_select(0, idx), mb.Mask, _s.ClipRange);
                var loss = pg;
                if (values is not null)
                {
                    var vf = PpoLosses.Value(values[.., ..^1], old.Values!.index_select(0, idx), returns!.index_select(0, idx), mb.Mask, _s.ValueClipRange);
                    loss = pg + _s.ValueCoef * vf;
                    vfSum += vf.item<float>();
                }
                if (_s.Algorithm == RlAlgorithm.Grpo && _s.KlLossCoef > 0)
                    loss = loss + _s.KlLossCoef * PpoLosses.K3Kl(logProbs, old.RefLogProbs.index_select(0, idx), mb.Mask);
                _optimizer.ClippedStep(_policy.Trainable.Values, loss);
                pgSum += pg.item<float>();
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
        return new UpdateStats(pgSum / updates, _s.CriticFree ? double.NaN : vfSum / updates, approxKlSum / updates, clippedSum / updates);
    }

    /// <summary>The means over the updates of the losses and of the update's health signs (see <see cref="PpoIterationStats"/>).</summary>
    private sealed record UpdateStats(double PolicyLoss, double ValueLoss, double ApproxKl, double ClipFraction);

    /// <summary>log π(a_t | s_t) [B, T-1] for logits [B, T, V] and the actions that followed, tokens[:, 1:].</summary>
    private static Tensor TokenLogProbs(Tensor logits, Tensor actions) => ActionLogProbs(logits[.., ..^1].log_softmax(-1), actions);

    /// <summary>The actions' entries of log-probabilities [B, T-1, V].</summary>
    private static Tensor ActionLogProbs(Tensor logProbs, Tensor actions) => logProbs.gather(2, actions.unsqueeze(2)).squeeze(2);

    /// <summary>The checkpoint's kind: the policy's state (see <see cref="IPpoPolicy.State"/>), AdamW's state, and <see cref="LearnerState"/>.</summary>
    public const string CheckpointKind = "ppo-learner";

    /// <summary>The learner's scalars, as the checkpoint's JSON state.</summary>
    public sealed record LearnerState(int Iteration, double KlCoef, double RewardMean, double RewardVariance, long RewardCount);

    /// <summary>Policy (with its value head, where it has one), optimizer state, KL coefficient, reward moments and iteration.</summary>
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
