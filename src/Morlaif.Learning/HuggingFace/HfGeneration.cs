using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>How to pick each next token. Greedy ignores temperature and top-p; a row stops after any of <see cref="EosTokenIds"/>.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 32;
    public bool Greedy { get; init; }
    public double Temperature { get; init; } = 1.0;
    /// <summary>Nucleus sampling: the smallest set of most likely tokens whose probability reaches top_p; 1 keeps them all.</summary>
    public double TopP { get; init; } = 1.0;
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int BatchSize { get; init; } = 16;
}

/// <summary>The generated tokens of one prompt (ending with eos if one was generated) and each one's log-probability.</summary>
public sealed record GeneratedSequence(int[] Ids, float[] LogProbs);

/// <summary>
/// Batched generation with the KV cache: prompts are left-padded so every row's next token goes in the same
/// column, the prompt is fed once, then one token per step. The reported log-probabilities are under the
/// model's own distribution (log-softmax of the logits), not the temperature- or top-p-shaped one that drew
/// the token: that is what PPO's ratios and KL penalties need.
/// </summary>
public static class HfGeneration
{
    public static List<GeneratedSequence> Generate(HfCausalLm model, IReadOnlyList<int[]> prompts, GenerationOptions options, Generator? generator = null)
    {
        if (!options.Greedy && generator is null) throw new ArgumentException("sampling needs a generator (its seed makes the run reproducible)", nameof(generator));
        if (!options.Greedy && (options.Temperature <= 0 || options.TopP <= 0 || options.TopP > 1))
            throw new ArgumentException($"temperature must be > 0 and top_p in (0, 1] (got {options.Temperature}, {options.TopP})", nameof(options));
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token", nameof(prompts));
        var results = new List<GeneratedSequence>(prompts.Count);
        for (var start = 0; start < prompts.Count; start += options.BatchSize)
            results.AddRange(Batch(model, prompts.Skip(start).Take(options.BatchSize).ToList(), options, generator));
        return results;
    }

    private static List<GeneratedSequence> Batch(HfCausalLm model, List<int[]> prompts, GenerationOptions options, Generator? generator)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var device = model.parameters().First().device;
            var batch = SequenceBatch.LeftPadded(prompts, device);
            var steps = options.MaxNewTokens;
            // GPT-2's learned positions end at n_positions: prompt and response together must fit, so that a later
            // forward pass over both (PPO's scoring) can run. Rotary models have no such table.
            if (model.Config.IsGpt2) steps = Math.Min(steps, model.Config.MaxPositions - prompts.Max(p => p.Length));
            var isEosTable = new bool[model.Config.VocabSize];
            foreach (var id in options.EosTokenIds) isEosTable[id] = true;
            var isEos = tensor(isEosTable, device: device);

            using var cache = model.NewCache(batch.Tokens.shape[1] + steps);
            // Only the last column's logits are needed: the head over the whole prompt would be B x T x vocab.
            var logits = model.LmHead(model.HiddenStates(batch.Tokens, batch.Valid, cache)[.., -1]);
            var done = zeros(prompts.Count, ScalarType.Bool, device);
            // Without eos no row stops early, so there is no need to ask the device whether all did.
            var canStop = options.EosTokenIds.Count > 0;
            var (ids, logProbs) = (new List<Tensor>(), new List<Tensor>());
            for (var step = 0; step < steps; step++)
            {
                // Each step's activations are freed with the step; what the next step reads moves out.
                using var stepScope = NewDisposeScope();
                var logp = logits.to(ScalarType.Float32).log_softmax(-1);
                var next = options.Greedy ? logp.argmax(-1) : Sample(logp, options, generator!);
                ids.Add(next.masked_fill(done, -1).MoveToOuterDisposeScope());
                logProbs.Add(logp.gather(1, next.unsqueeze(1)).squeeze(1).MoveToOuterDisposeScope());
                var fed = done.logical_not();
                done = (done | isEos.index_select(0, next)).MoveToOuterDisposeScope();
                if (step == steps - 1 || (canStop && done.all().item<bool>())) break;
                logits = model.Forward(next.unsqueeze(1), fed.unsqueeze(1), cache)[.., -1].MoveToOuterDisposeScope();
            }
            return Rows(prompts.Count, ids, logProbs);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>
    /// A token drawn from the temperature-scaled distribution restricted to its top-p nucleus, by inverting its
    /// cumulative distribution with one uniform number per row. multinomial instead draws an exponential number
    /// per vocabulary entry (an exponential race), which cost as much as the decode step's forward pass at PPO's
    /// batch of 64. The sums are in fp64, so that a token's share of the cumulative sum is its probability to
    /// well below fp32's resolution near 1; entries of probability 0 (outside the nucleus) are never drawn.
    /// </summary>
    private static Tensor Sample(Tensor logp, GenerationOptions options, Generator generator)
    {
        // At temperature 1 (PPO's) the log-probabilities are the distribution already: no second softmax.
        var probs = options.Temperature == 1 ? logp.exp() : (logp / options.Temperature).softmax(-1);
        if (options.TopP < 1)
        {
            var (sorted, order) = probs.sort(-1, descending: true);
            // A token stays if the mass of the tokens ranked above it is still short of top_p, so the first always stays.
            var before = sorted.cumsum(-1) - sorted;
            sorted = sorted.masked_fill(before.ge(options.TopP), 0);
            probs = zeros_like(probs).scatter(-1, order, sorted);
        }
        var cumulative = probs.to(ScalarType.Float64).cumsum(-1);
        var drawn = rand([probs.shape[0], 1], ScalarType.Float64, probs.device, generator: generator) * cumulative[.., -1].unsqueeze(1);
        // The first entry whose cumulative sum exceeds the draw; the clamp only guards fp64 rounding at the total.
        return searchsorted(cumulative, drawn, right: true).squeeze(1).clamp_max(probs.shape[1] - 1);
    }

    private static List<GeneratedSequence> Rows(int count, List<Tensor> ids, List<Tensor> logProbs)
    {
        if (ids.Count == 0) return Enumerable.Range(0, count).Select(_ => new GeneratedSequence([], [])).ToList();
        var idData = stack(ids, 1).cpu().data<long>().ToArray();
        var lpData = stack(logProbs, 1).cpu().data<float>().ToArray();
        var width = ids.Count;
        var rows = new List<GeneratedSequence>(count);
        for (var i = 0; i < count; i++)
        {
            var (rowIds, rowLps) = (new List<int>(), new List<float>());
            for (var j = 0; j < width && idData[i * width + j] >= 0; j++)
            {
                rowIds.Add((int)idData[i * width + j]);
                rowLps.Add(lpData[i * width + j]);
            }
            rows.Add(new GeneratedSequence([.. rowIds], [.. rowLps]));
        }
        return rows;
    }
}

/// <summary>A causal LM sampling responses that stop at <paramref name="stopIds"/>, in batches of 16 (the pairs' sampling, as PPO samples).</summary>
public sealed class HfGenerativePolicy(HfCausalLm model, IReadOnlyList<int> stopIds) : Ppo.IGenerativePolicy
{
    public List<int[]> Generate(IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator) =>
        HfGeneration.Generate(model, prompts, new GenerationOptions { MaxNewTokens = maxNewTokens, EosTokenIds = stopIds }, generator).Select(r => r.Ids).ToList();
}
