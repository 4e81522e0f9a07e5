using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Cli;

/// <summary>
/// morlaif generate: a Hugging Face checkpoint folder's continuation of one prompt. Greedy unless --temperature
/// or --top-p is given or the folder's generation_config.json sets do_sample (as transformers' generate does);
/// it stops at the tokenizer's stop ids and generation_config.json's eos_token_id. --adapter applies a PEFT LoRA folder.
/// </summary>
public static class GenerateCommand
{
    public static readonly string[] Options = ["model", "prompt", "max-new-tokens", "greedy", "temperature", "top-p", "seed", "json", "dtype", "device", "adapter"];

    public static int Execute(CliArguments args)
    {
        var folder = HfOptions.ModelFolder(args);
        var prompt = args.Get("prompt") ?? throw new UsageException("option '--prompt' is required");
        var maxNew = HfOptions.PositiveInt(args, "max-new-tokens", 32);
        var (device, dtype) = (HfOptions.Device(args), HfOptions.Dtype(args));
        var generation = GenerationConfig(folder);
        var sampling = args.Has("temperature") || args.Has("top-p");
        if (args.Has("greedy") && sampling) throw new UsageException("option '--greedy' cannot be combined with '--temperature' or '--top-p'");
        var greedy = args.Has("greedy") || (!sampling && generation?["do_sample"]?.GetValueKind() != JsonValueKind.True);
        var temperature = args.GetDouble("temperature") ?? Number(generation, "temperature") ?? 1.0;
        var topP = args.GetDouble("top-p") ?? Number(generation, "top_p") ?? 1.0;
        if (!greedy && temperature <= 0) throw new UsageException($"option '--temperature': must be > 0 (got {temperature})");
        if (!greedy && topP is <= 0 or > 1) throw new UsageException($"option '--top-p': must be in (0, 1] (got {topP})");
        var seed = args.GetLong("seed");

        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder);
        var promptIds = tokenizer.Encode(prompt);
        if (promptIds.Length == 0) throw new UsageException("option '--prompt': encodes to no tokens (and the tokenizer adds no BOS)");
        using var model = HfModelFolder.Load(folder, dtype, device);
        // Applied in place: the adapter's layers wrap the model's projections.
        HfOptions.ApplyAdapter(args, model);
        HfOptions.CheckFits(folder, model, promptIds.Max(), promptIds.Length, "option '--prompt'");
        var stops = tokenizer.StopIds.Concat(EosIds(folder, generation)).Where(i => i >= 0 && i < model.Config.VocabSize).Distinct().ToList();
        var options = new GenerationOptions { MaxNewTokens = maxNew, Greedy = greedy, Temperature = temperature, TopP = topP, EosTokenIds = stops, BatchSize = 1 };
        // Without --seed each run draws differently; with it, the same seed draws the same tokens.
        using var generator = greedy ? null : new Generator((ulong)(seed ?? Random.Shared.NextInt64()), device);
        var result = HfGeneration.Generate(model, [promptIds], options, generator)[0];
        var text = tokenizer.Decode(result.Ids);
        if (!args.Has("json"))
        {
            Console.WriteLine(text);
            return 0;
        }
        var json = new JsonObject
        {
            ["promptIds"] = new JsonArray([.. promptIds.Select(i => (JsonNode)i)]),
            ["ids"] = new JsonArray([.. result.Ids.Select(i => (JsonNode)i)]),
            ["logprobs"] = new JsonArray([.. result.LogProbs.Select(p => (JsonNode)p)]),
            ["text"] = text,
        };
        Console.WriteLine(json.ToJsonString());
        return 0;
    }

    private static JsonObject? GenerationConfig(string folder)
    {
        var path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ConfigException($"{path}: must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{path}: is not JSON ({e.Message.Split(". ")[0]})");
        }
    }

    private static double? Number(JsonObject? config, string field) =>
        config?[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    /// <summary>generation_config.json's eos_token_id: one id or a list (Llama 3 instruct lists end_of_text and eot_id).</summary>
    private static IEnumerable<int> EosIds(string folder, JsonObject? config) => config?["eos_token_id"] switch
    {
        null => [],
        JsonValue v when v.TryGetValue<int>(out var id) => [id],
        JsonArray a when a.All(n => n is JsonValue x && x.TryGetValue<int>(out _)) => a.Select(n => n!.GetValue<int>()),
        _ => throw new ConfigException($"{Path.Combine(folder, "generation_config.json")}: eos_token_id must be an integer or a list of integers"),
    };
}
