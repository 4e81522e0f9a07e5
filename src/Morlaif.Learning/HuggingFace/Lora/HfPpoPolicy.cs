using Morlaif.Learning.Models;
using Morlaif.Learning.Ppo;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// A Hugging Face policy for PPO: one LoRA adapter ("policy") on a frozen <see cref="HfCausalLm"/> plus a value head on
/// its last hidden states (TRL's AutoModelForCausalLMWithValueHead names it v_head.summary). The reference policy is
/// the same base with the adapter off: no second copy of the weights. The base may carry other adapters (the
/// principle PMs share it), so every call makes the policy's adapter active first. Owns the adapter and the head,
/// not the base. A critic-free algorithm (GRPO, RLOO) makes it without the head: less to train, store and hold.
/// </summary>
public sealed class HfPpoPolicy : IPpoPolicy
{
    public const string Adapter = "policy";
    public const string ValueHeadPrefix = "v_head.summary.";

    private readonly Linear? _valueHead;
    private readonly IReadOnlyList<int> _eosTokenIds;

    /// <param name="eosTokenIds">the tokenizer's stop ids: a rollout ends at the first one</param>
    /// <param name="valueHead">whether the policy has PPO's value head</param>
    public HfPpoPolicy(HfCausalLm baseModel, IReadOnlyList<int> eosTokenIds, LoraSettings? settings = null, long seed = 0, bool valueHead = true)
    {
        Lora = new LoraModel(baseModel);
        Lora.AddAdapter(Adapter, settings ?? new LoraSettings(), seed);
        _eosTokenIds = eosTokenIds;
        var adapter = Lora.Pairs(Adapter).SelectMany(p => new[]
        {
            KeyValuePair.Create($"{LoraFolder.KeyPrefix}{p.Path}.lora_A.weight", p.Pair.A),
            KeyValuePair.Create($"{LoraFolder.KeyPrefix}{p.Path}.lora_B.weight", p.Pair.B),
        });
        if (!valueHead)
        {
            Trainable = adapter.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            return;
        }
        var w = baseModel.parameters().First();
        _valueHead = Linear(Lora.Config.HiddenSize, 1, device: CPU);
        using (no_grad())
        {
            // V = 0 at the start, as the world's policy: PPO starts from no opinion rather than noise.
            _valueHead.weight!.zero_();
            _valueHead.bias!.zero_();
        }
        _valueHead.to(w.dtype).to(w.device);
        Trainable = new Dictionary<string, Parameter>(StringComparer.Ordinal)
        {
            [ValueHeadPrefix + "weight"] = _valueHead.weight!,
            [ValueHeadPrefix + "bias"] = _valueHead.bias!,
        }.Concat(adapter).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    public LoraModel Lora { get; }

    public Device Device => Lora.Model.parameters().First().device;

    /// <summary>The value head's weight and bias (where it has one), and the adapter's A and B under PEFT's saved keys.</summary>
    public IReadOnlyDictionary<string, Parameter> Trainable { get; }

    public IReadOnlyDictionary<string, Tensor> State => Trainable.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value, StringComparer.Ordinal);

    public List<int[]> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator)
    {
        Lora.SetActive(Adapter);
        return Sample(prompts, maxNewTokens, generator);
    }

    public List<int[]> GenerateReference(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator)
    {
        Lora.SetActive(Adapter);
        using var _ = Lora.AdaptersOff();
        return Sample(prompts, maxNewTokens, generator);
    }

    /// <summary>Sampled responses of the base with whatever adapter is on, all prompts in one batch.</summary>
    private List<int[]> Sample(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator)
    {
        var options = new GenerationOptions { MaxNewTokens = maxNewTokens, Greedy = false, EosTokenIds = _eosTokenIds, BatchSize = Math.Max(1, prompts.Count) };
        return HfGeneration.Generate(Lora.Model, prompts, options, generator).Select(r => r.Ids).ToList();
    }

    public Tensor Logits(Tensor tokens, Tensor valid)
    {
        Lora.SetActive(Adapter);
        return Scoped.Run(() => Lora.Model.Forward(tokens, valid).to(ScalarType.Float32));
    }

    public (Tensor Logits, Tensor Values) LogitsAndValues(Tensor tokens, Tensor valid)
    {
        if (_valueHead is null) throw new InvalidOperationException("this policy was made without a value head (a critic-free algorithm)");
        Lora.SetActive(Adapter);
        // PPO's ratios and advantages in fp32 whatever the base's dtype.
        return Scoped.Run(() =>
        {
            var hidden = Lora.Model.HiddenStates(tokens, valid);
            return (Lora.Model.LmHead(hidden).to(ScalarType.Float32), _valueHead.forward(hidden).squeeze(-1).to(ScalarType.Float32));
        });
    }

    public Tensor ReferenceLogits(Tensor tokens, Tensor valid)
    {
        Lora.SetActive(Adapter);
        using var _ = Lora.AdaptersOff();
        return Scoped.Run(() => Lora.Model.Forward(tokens, valid).to(ScalarType.Float32));
    }

    public void SetTraining(bool training)
    {
        if (training) Lora.Model.train();
        else Lora.Model.eval();
    }

    /// <summary>The policy's adapter alone as a PEFT CAUSAL_LM folder (what `morlaif generate --adapter` applies).</summary>
    public void SaveAdapter(string folder, string? baseModelNameOrPath = null) => LoraFolder.Save(Lora, Adapter, folder, baseModelNameOrPath);

    /// <summary>The policy as one plain model: its adapter merged into the base for good (what `morlaif export` saves); the value head stays out.</summary>
    public void MergeIntoBase() => Lora.MergeAndUnload(Adapter);

    public void Dispose()
    {
        if (Lora.Adapters.ContainsKey(Adapter)) Lora.RemoveAdapter(Adapter);
        _valueHead?.Dispose();
    }
}
