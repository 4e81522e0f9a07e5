using Morlaif.Feedback;
using Morlaif.Feedback.Datasets;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Runs;
using Morlaif.Learning.TextRuns;

namespace Morlaif.Workers.Text;

/// <summary>
/// A text run's inputs, read and checked before any expensive work: the model folders' config.json and tokenizer, the
/// prompt file, the human pairs, the principles, and whether every prompt plus a response fits the model. The prompts
/// are drawn by a seeded rule into disjoint sets: pairs.train + pairs.test for the response pairs, evaluation.prompts
/// for the evaluation. Every problem is one <see cref="ConfigException"/> or <see cref="DatasetException"/> naming the
/// file, line or field.
/// </summary>
public sealed record TextRunInputs(
    HfConfig Model,
    HfConfig PmModel,
    IReadOnlyList<string> PairPrompts,
    IReadOnlyList<string> EvaluationPrompts,
    IReadOnlyList<PreferenceExample> Human,
    IReadOnlyList<SftExample>? Sft,
    int LongestPromptTokens,
    int PromptTokens)
{
    public static TextRunInputs Read(RunConfig config)
    {
        if (config.Task != RunConfig.TextTask) throw new ArgumentException("not a text run's config", nameof(config));
        foreach (var (i, principle) in config.Principles.Index())
            if (!Principles.Paper.Any(p => p.Name == principle))
                throw new ConfigException($"config field 'principles[{i}]': unknown principle '{principle}' (known: {string.Join(", ", Principles.Paper.Select(p => p.Name))})");

        var model = Folder(config.Model.Path!, "model.path");
        var pmModel = config.Model.PmPath is { } pm ? Folder(pm, "model.pmPath") : model;
        if (config.Model.Lora.PmTopLayers is { } top && top > pmModel.Layers)
            throw new ConfigException($"config field 'model.lora.pmTopLayers': {top} layers, but the PM base has {pmModel.Layers}");
        using var tokenizer = PreTrainedTokenizer.FromPretrained(config.Model.Path!);
        if (tokenizer.VocabSize > model.VocabSize)
            throw new ConfigException($"{config.Model.Path}: the tokenizer has {tokenizer.VocabSize} tokens, beyond config.json's vocab_size {model.VocabSize}");

        var prompts = PromptLists.ReadConversations(config.Data.Prompts!);
        var human = PreferenceDatasets.Read(config.Data.Human!);
        var sft = config.Data.Sft is { } sftPath ? SftDatasets.Read(sftPath) : null;

        var pairs = config.Pairs.Train + config.Pairs.Test;
        var needed = pairs + config.Evaluation.Prompts;
        if (prompts.Count < needed)
            throw new DatasetException(config.Data.Prompts!, 0,
                $"has {prompts.Count} distinct prompts; pairs.train + pairs.test + evaluation.prompts need {needed} ({config.Pairs.Train} + {config.Pairs.Test} + {config.Evaluation.Prompts})");
        if (human.Count < 20)
            throw new DatasetException(config.Data.Human!, 0, $"has {human.Count} pairs; fitting the principle weights on half and measuring on the other half needs at least 20");

        // A seeded shuffle of the distinct prompts: the first pairs go to the response pairs, the next to the evaluation.
        var rng = new Random(Learning.Seeds.Derive(config.Seed, "text-prompts"));
        var order = prompts.OrderBy(_ => rng.Next()).ToList();
        var (longest, total) = (0, 0);
        foreach (var (text, line) in order.Take(needed))
        {
            var length = tokenizer.Encode(text).Length;
            if (length + config.Ppo.MaxNewTokens > model.MaxPositions && model.IsGpt2)
                throw new DatasetException(config.Data.Prompts!, line,
                    $"the prompt is {length} tokens; with ppo.maxNewTokens {config.Ppo.MaxNewTokens} it does not fit GPT-2's n_positions {model.MaxPositions}");
            longest = Math.Max(longest, length);
            total += length;
        }
        return new TextRunInputs(model, pmModel, [.. order.Take(pairs).Select(p => p.Prompt)], [.. order.Skip(pairs).Take(config.Evaluation.Prompts).Select(p => p.Prompt)],
            human, sft, longest, total);
    }

    /// <summary>What the workers read instead of the user's files: the drawn prompts, the human pairs and the SFT demonstrations.</summary>
    public TextRunData ToData() => new(PairPrompts, EvaluationPrompts,
        [.. Human.Select(h => new HumanPair(h.Prompt, h.Chosen, h.Rejected, h.Line))], Sft?.Select(d => new SftDemonstration(d.Prompt, d.Completion)).ToList());

    private static HfConfig Folder(string path, string field) =>
        Directory.Exists(path) ? HfConfig.Load(path) : throw new ConfigException($"config field '{field}': '{path}' is not a folder (a Hugging Face model: config.json, *.safetensors, tokenizer files)");
}
