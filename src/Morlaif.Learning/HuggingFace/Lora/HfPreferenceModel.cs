using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// Preference models on a real base, one per principle: each is a LoRA adapter plus its own scalar head ("score", a
/// Linear(hidden, 1) without bias, as in Hugging Face's *ForSequenceClassification), hot-swapped on one frozen
/// <see cref="HfCausalLm"/>. A sequence's score is the head applied to the last hidden state at its last real token.
/// N principles cost one base plus N adapters and heads, in memory and on disk (<see cref="Save"/> writes PEFT's SEQ_CLS layout).
/// Scoring the same sequences under several principles (<see cref="Score(IReadOnlyList{string}, IReadOnlyList{int[]}, int)"/>)
/// runs the frozen layers below every adapter once: with adapters on the top layers only (<see cref="LoraSettings.OnTopLayers"/>)
/// N principles cost far less than N passes.
/// </summary>
public sealed class HfPreferenceModel : IDisposable
{
    public const string HeadName = "score";

    private readonly Dictionary<string, Linear> _heads = new(StringComparer.Ordinal);

    public HfPreferenceModel(HfCausalLm baseModel) => Lora = new LoraModel(baseModel);

    public LoraModel Lora { get; }

    public IReadOnlyCollection<string> Principles => _heads.Keys;

    private Device Device => Lora.Model.parameters().First().device;

    /// <summary>A fresh PM for <paramref name="principle"/>: an adapter with B = 0 and a head drawn N(0, 0.02), HF's initializer_range default.</summary>
    public void AddPrinciple(string principle, LoraSettings? settings = null, long seed = 0)
    {
        Lora.AddAdapter(principle, settings ?? new LoraSettings(), seed);
        var head = Linear(Lora.Config.HiddenSize, 1, hasBias: false, device: CPU);
        using (no_grad())
        using (var g = new Generator((ulong)Seeds.Derive(seed, "pm-head"), CPU))
            head.weight!.copy_(randn(head.weight.shape, generator: g) * 0.02);
        _heads[principle] = AtBase(head);
    }

    public Linear Head(string principle) =>
        _heads.TryGetValue(principle, out var h) ? h : throw new ArgumentException($"no principle PM '{principle}' (have: {string.Join(", ", _heads.Keys)})", nameof(principle));

    /// <summary>What training <paramref name="principle"/>'s PM updates: its adapter's A and B and its head.</summary>
    public IReadOnlyList<Parameter> Trainable(string principle) => [.. Lora.Parameters(principle), Head(principle).weight!];

    /// <summary>Scores [B] of left-padded sequences (the last real token is the last column), with <paramref name="principle"/>'s adapter active.</summary>
    public Tensor Score(string principle, Tensor tokens, Tensor attentionMask)
    {
        var head = Head(principle);
        Lora.SetActive(principle);
        return Scoped.Run(() => head.forward(Lora.Model.HiddenStates(tokens, attentionMask)[.., -1]).squeeze(-1));
    }

    /// <summary>Scores of full (prompt + response) token sequences under <paramref name="principle"/>'s PM.</summary>
    public double[] Score(string principle, IReadOnlyList<int[]> sequences, int batchSize = 32)
    {
        var scores = new List<double>(sequences.Count);
        using var _ = no_grad();
        foreach (var chunk in sequences.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var b = SequenceBatch.LeftPadded(chunk, Device);
            scores.AddRange(Score(principle, b.Tokens, b.Valid).to(ScalarType.Float64).cpu().data<double>().ToArray());
        }
        return [.. scores];
    }

    /// <summary>
    /// Scores of full token sequences under each of <paramref name="principles"/>' PMs, one array per principle in their
    /// order, the same as <see cref="Score(string, IReadOnlyList{int[]}, int)"/> gives each. The layers below the lowest
    /// layer any of their adapters changes run once per batch with no adapter, since that is what every one of them
    /// computes there; the layers above run once per principle with its adapter. With every adapter on the top K of L
    /// layers, N principles cost (L - K + N K) / L passes rather than N; with full-depth adapters, N passes as before.
    /// </summary>
    public double[][] Score(IReadOnlyList<string> principles, IReadOnlyList<int[]> sequences, int batchSize = 32)
    {
        var heads = principles.Select(Head).ToList();
        var shared = principles.Count == 0 ? 0 : principles.Min(Lora.FirstLayer);
        var scores = principles.Select(_ => new List<double>(sequences.Count)).ToArray();
        using var _ = no_grad();
        using var restore = Lora.AdaptersOff();
        foreach (var chunk in sequences.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var b = SequenceBatch.LeftPadded(chunk, Device);
            Lora.SetActive(null);
            var below = Lora.Model.HiddenStatesAt(b.Tokens, b.Valid, shared);
            for (var i = 0; i < principles.Count; i++)
            {
                Lora.SetActive(principles[i]);
                var score = heads[i].forward(Lora.Model.HiddenStatesFrom(below)[.., -1]).squeeze(-1);
                scores[i].AddRange(score.to(ScalarType.Float64).cpu().data<double>().ToArray());
            }
        }
        return [.. scores.Select(s => s.ToArray())];
    }

    /// <summary>
    /// <paramref name="principle"/>'s PM as training and scoring see it: its adapter and head are what is trained and
    /// what a checkpoint keeps; the base stays frozen.
    /// </summary>
    public IPreferenceScorer Principle(string principle) => new PrinciplePm(this, principle);

    private sealed class PrinciplePm(HfPreferenceModel pms, string principle) : IPreferenceScorer, IJointPreferenceScorer
    {
        public Device Device => pms.Device;

        private HfPreferenceModel Owner => pms;

        private string Name => principle;

        public IReadOnlyDictionary<string, Parameter> Trainable { get; } =
            pms.Trainable(principle).Select((p, i) => (p, i)).ToDictionary(x => $"{principle}.{x.i}", x => x.p);

        public IReadOnlyDictionary<string, Tensor> State => Trainable.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value);

        public Tensor Score(IReadOnlyList<int[]> sequences) => Scoped.Run(() =>
        {
            // Left-padded: the last real token of every row is the last column, where the head reads.
            var b = SequenceBatch.LeftPadded(sequences, Device);
            return pms.Score(principle, b.Tokens, b.Valid);
        });

        public double[] ScoreAll(IReadOnlyList<int[]> sequences) => pms.Score(principle, sequences);

        public double[][]? ScoreTogether(IReadOnlyList<IPreferenceScorer> models, IReadOnlyList<int[]> sequences) =>
            models.All(m => m is PrinciplePm p && p.Owner == pms) ? pms.Score([.. models.Select(m => ((PrinciplePm)m).Name)], sequences) : null;

        public void SetTraining(bool training)
        {
            if (training) pms.Lora.Model.train();
            else pms.Lora.Model.eval();
        }
    }

    /// <summary>Writes <paramref name="principle"/>'s PM alone as a PEFT SEQ_CLS adapter folder (the head as modules_to_save "score").</summary>
    public void Save(string principle, string folder, string? baseModelNameOrPath = null) =>
        LoraFolder.Save(Lora, principle, folder, baseModelNameOrPath, new Dictionary<string, Tensor> { [HeadName] = Head(principle).weight! }, "SEQ_CLS");

    /// <summary>Adds the PM saved in <paramref name="folder"/> as <paramref name="principle"/>.</summary>
    public void Load(string principle, string folder)
    {
        var loaded = LoraFolder.Load(Lora, folder, principle);
        try
        {
            var file = Path.Combine(folder, LoraFolder.WeightsFile);
            if (!loaded.ModulesToSave.TryGetValue(HeadName, out var weight))
                throw new ConfigException($"{Path.Combine(folder, LoraFolder.ConfigFile)}: modules_to_save does not list '{HeadName}', a preference model's head");
            if (!weight.shape.SequenceEqual(new long[] { 1, Lora.Config.HiddenSize }))
                throw new ConfigException($"{file}: tensor '{LoraFolder.KeyPrefix}{HeadName}.weight' has shape [{string.Join(", ", weight.shape)}], a head needs [1, {Lora.Config.HiddenSize}]");
            var head = Linear(Lora.Config.HiddenSize, 1, hasBias: false, device: CPU);
            using (no_grad()) head.weight!.copy_(weight);
            _heads[principle] = AtBase(head);
        }
        catch
        {
            Lora.RemoveAdapter(principle);
            throw;
        }
        finally
        {
            foreach (var t in loaded.ModulesToSave.Values) t.Dispose();
        }
    }

    public void RemovePrinciple(string principle)
    {
        Lora.RemoveAdapter(principle);
        if (_heads.Remove(principle, out var head)) head.Dispose();
    }

    /// <summary>The head on the base's device and dtype.</summary>
    private Linear AtBase(Linear head)
    {
        var w = Lora.Model.parameters().First();
        head.to(w.dtype).to(w.device);
        return head;
    }

    /// <summary>Frees the heads and takes the PMs' adapters off the base (their A and B are not the base's to free).</summary>
    public void Dispose()
    {
        foreach (var principle in _heads.Keys.Where(Lora.Adapters.ContainsKey).ToList()) Lora.RemoveAdapter(principle);
        foreach (var h in _heads.Values) h.Dispose();
        _heads.Clear();
    }
}
