using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.Models;

/// <summary>
/// A preference model: the policy's trunk with a scalar head read at the last real token of
/// "bos prompt sep response eos". Initialised from the SFT policy, as in the paper.
/// </summary>
public sealed class PreferenceModel : Module, Training.IPreferenceScorer, Ppo.IJointPreferenceScorer
{
    private readonly TransformerTrunk trunk;
    private readonly Linear reward_head;

    public PreferenceModel(TransformerConfig config) : base(nameof(PreferenceModel))
    {
        trunk = new TransformerTrunk(config);
        reward_head = Linear(config.DModel, 1, device: CPU);
        RegisterComponents();
        using (no_grad())
        {
            reward_head.weight!.zero_();
            reward_head.bias!.zero_();
        }
    }

    public TransformerConfig Config => trunk.Config;

    /// <summary>A PM with the policy's trunk and a zero head, all of it on the policy's device.</summary>
    public static PreferenceModel FromPolicy(PolicyModel policy)
    {
        var pm = new PreferenceModel(policy.Config);
        pm.to(policy.parameters().First().device);
        pm.trunk.load_state_dict(policy.Trunk.state_dict());
        return pm;
    }

    public Device Device => parameters().First().device;

    /// <summary>The whole network is trained (initialised from the SFT policy's trunk).</summary>
    public IReadOnlyDictionary<string, Parameter> Trainable => named_parameters().ToDictionary(p => p.name, p => p.parameter);

    public IReadOnlyDictionary<string, Tensor> State => state_dict();

    public void SetTraining(bool training)
    {
        if (training) train();
        else eval();
    }

    public Tensor Score(IReadOnlyList<int[]> sequences) => Scoped.Run(() =>
    {
        var b = SequenceBatch.RightPadded(sequences, Device);
        return Score(b.Tokens, b.Valid, b.LastIndex);
    });

    /// <summary>
    /// Scores in batches of 256 (the world's sequences are short), shortest first: a batch of similar lengths carries
    /// little padding into its attention, where a batch in the callers' order is padded to about twice its mean length.
    /// </summary>
    public double[] ScoreAll(IReadOnlyList<int[]> sequences)
    {
        var wasTraining = training;
        eval();
        var order = Enumerable.Range(0, sequences.Count).OrderBy(i => sequences[i].Length).ToArray();
        var scores = new double[sequences.Count];
        using (no_grad())
            foreach (var chunk in order.Chunk(256))
            {
                using var scope = NewDisposeScope();
                var batch = Score([.. chunk.Select(i => sequences[i])]).to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (var j = 0; j < chunk.Length; j++) scores[chunk[j]] = batch[j];
            }
        if (wasTraining) train();
        return scores;
    }

    /// <summary>
    /// The fit scores some 11,000 sequences with each of eight PMs, and a world PM's pass keeps one core busy, not two:
    /// where torch's threads leave cores idle (the in-process world run gives each stage one), the PMs score side by
    /// side, each on its own thread. Null (one at a time) when one pass already fills the cores or a model is of another family.
    /// </summary>
    public double[][]? ScoreTogether(IReadOnlyList<Training.IPreferenceScorer> models, IReadOnlyList<int[]> sequences)
    {
        if (SideBySide.Width < 2 || !models.All(m => m is PreferenceModel)) return null;
        var scores = new double[models.Count][];
        SideBySide.For(models.Count, i => scores[i] = models[i].ScoreAll(sequences));
        return scores;
    }

    /// <summary>Scalar scores [B] of right-padded sequences whose last real token is at <paramref name="lastIndex"/> [B].</summary>
    public Tensor Score(Tensor tokens, Tensor valid, Tensor lastIndex) => Scoped.Run(() =>
    {
        var h = trunk.Forward(tokens, valid);
        var idx = lastIndex.view(-1, 1, 1).expand(-1, 1, h.shape[2]);
        return reward_head.forward(h.gather(1, idx).squeeze(1)).squeeze(-1);
    });
}
