using Morlaif.Learning.World;
using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>
/// Ancestral sampling from the policy with a KV cache: the prompt is fed once, then one token per step.
/// METHOD.md samples with top_k 0 / top_p 1, i.e. from the full distribution at temperature 1.
/// </summary>
public static class Sampler
{
    /// <summary>Samples one response per prompt (bos prompt sep). Each response ends with eos unless it hit <paramref name="maxNewTokens"/>.</summary>
    public static List<int[]> Generate(PolicyModel policy, IReadOnlyList<int[]> prompts, int maxNewTokens, Generator generator,
        double temperature = 1.0, int batchSize = 256)
    {
        var results = new List<int[]>(prompts.Count);
        for (var start = 0; start < prompts.Count; start += batchSize)
            results.AddRange(GenerateBatch(policy, prompts.Skip(start).Take(batchSize).ToList(), maxNewTokens, generator, temperature));
        return results;
    }

    private static List<int[]> GenerateBatch(PolicyModel policy, List<int[]> prompts, int maxNewTokens, Generator generator, double temperature)
    {
        var wasTraining = policy.training;
        policy.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = policy.parameters().First().device;
        var batch = SequenceBatch.LeftPadded(prompts, device);
        using var cache = new KvCache(policy.Config.Layers);
        var room = policy.Config.ContextLength - prompts.Max(p => p.Length);
        var steps = Math.Min(maxNewTokens, room);

        // Only words and eos may be sampled: pad, bos, sep and unk are never a response token.
        // (Built on the host: TorchSharp's indexed assignment `banned[id] = true` makes its value on the default device.)
        var bannedIds = new bool[policy.Config.VocabSize];
        foreach (var id in new[] { WordTokenizer.Pad, WordTokenizer.Bos, WordTokenizer.Sep, WordTokenizer.Unk }) bannedIds[id] = true;
        var banned = tensor(bannedIds, device: device);

        // Rows that finished leave the batch (and the cache), so later steps compute only the rows still running: a
        // batch's longest response sets its step count, and most rows end well before it. The draw is still made over
        // every row, finished ones with uniform logits whose token is discarded, so each running row gets the random
        // numbers it would get in a full batch and the samples do not depend on when rows leave.
        var running = arange(prompts.Count, ScalarType.Int64, device);
        var logits = policy.Logits(batch.Tokens, batch.Valid, cache)[.., -1];
        var done = zeros(prompts.Count, ScalarType.Bool, device);
        var outputs = new List<Tensor>();
        for (var step = 0; step < steps; step++)
        {
            var all = zeros([prompts.Count, logits.shape[1]], logits.dtype, device).index_copy(0, running, logits);
            var probs = (all.masked_fill(banned, float.NegativeInfinity) / temperature).softmax(-1);
            var next = probs.multinomial(1, generator: generator).squeeze(1).masked_fill(done, WordTokenizer.Pad);
            outputs.Add(next);
            done = done | next.eq(WordTokenizer.Eos);
            if (done.all().item<bool>()) break;
            var fed = next.index_select(0, running);
            var stillRunning = done.index_select(0, running).logical_not();
            if (!stillRunning.all().item<bool>())
            {
                var kept = stillRunning.nonzero().squeeze(1);
                running = running.index_select(0, kept);
                fed = fed.index_select(0, kept);
                cache.Keep(kept);
            }
            logits = policy.Logits(fed.unsqueeze(1), ones([fed.shape[0], 1], ScalarType.Bool, device), cache)[.., -1];
        }
        if (wasTraining) policy.train();

        var ids = stack(outputs, 1).cpu().data<long>().ToArray();
        var width = outputs.Count;
        var result = new List<int[]>(prompts.Count);
        for (var i = 0; i < prompts.Count; i++)
        {
            var row = new List<int>();
            for (var j = 0; j < width; j++)
            {
                var id = (int)ids[i * width + j];
                if (id == WordTokenizer.Pad) break;
                row.Add(id);
                if (id == WordTokenizer.Eos) break;
            }
            result.Add([.. row]);
        }
        return result;
    }
}
