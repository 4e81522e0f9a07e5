using System.CommandLine;
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
    private static readonly Option<string> Model = HfOptions.Model();
    private static readonly Option<string> Prompt = new("--prompt") { Description = "the text to continue", HelpName = "TEXT", Required = true };
    private static readonly Option<long> MaxNewTokens = HfOptions.PositiveInt("--max-new-tokens", "the most tokens to generate", 32);
    private static readonly Option<bool> Greedy = new("--greedy") { Description = "the most likely token at each step (not with --temperature or --top-p)" };
    private static readonly Option<double?> Temperature = new("--temperature") { Description = "sample at this temperature (default: generation_config.json's, else 1)", HelpName = "T" };
    private static readonly Option<double?> TopP = new("--top-p") { Description = "sample from the smallest set of tokens with this much probability", HelpName = "P" };
    private static readonly Option<long?> Seed = CliOptions.Seed("the sampling seed (default: a new one each time)");
    private static readonly Option<bool> Json = CliOptions.Json("the prompt's and the continuation's ids, their logprobs and the text, as JSON");
    private static readonly Option<string?> Dtype = new("--dtype") { Description = "compute in this dtype: fp32, fp16 or bf16 (default: config.json's torch_dtype)", HelpName = "DTYPE" };
    private static readonly Option<string> Device = CliOptions.Device();
    private static readonly Option<string?> Adapter = new("--adapter") { Description = "a PEFT LoRA adapter folder to apply (as `sft --lora` writes)", HelpName = "DIR" };

    public static Command Create() => CliOptions.Command("generate",
        "A Hugging Face checkpoint folder's continuation of one prompt: greedy unless sampling is asked (here or by generation_config.json).",
        "morlaif generate --model gpt2 --prompt \"The capital of France is\" --max-new-tokens 8",
        [Model, Prompt, MaxNewTokens, Greedy, Temperature, TopP, Seed, Json, Dtype, Device, Adapter], (r, _) => Task.FromResult(Execute(r)));

    private static int Execute(ParseResult r)
    {
        var folder = HfOptions.ModelFolder(r.GetValue(Model)!);
        var prompt = r.GetValue(Prompt)!;
        var maxNew = (int)r.GetValue(MaxNewTokens);
        var (device, dtype) = (HfOptions.Device(r.GetValue(Device)!), HfOptions.Dtype(r.GetValue(Dtype)));
        var generation = GenerationConfig(folder);
        var sampling = r.GetValue(Temperature) is not null || r.GetValue(TopP) is not null;
        if (r.GetValue(Greedy) && sampling) throw new UsageException("option '--greedy' cannot be combined with '--temperature' or '--top-p'");
        var greedy = r.GetValue(Greedy) || (!sampling && generation?["do_sample"]?.GetValueKind() != JsonValueKind.True);
        var temperature = r.GetValue(Temperature) ?? Number(generation, "temperature") ?? 1.0;
        var topP = r.GetValue(TopP) ?? Number(generation, "top_p") ?? 1.0;
        if (!greedy && !(temperature > 0)) throw new UsageException($"option '--temperature': must be > 0 (got {temperature})");
        if (!greedy && topP is not (> 0 and <= 1)) throw new UsageException($"option '--top-p': must be in (0, 1] (got {topP})");
        var seed = r.GetValue(Seed);

        using var tokenizer = PreTrainedTokenizer.FromPretrained(folder);
        var promptIds = tokenizer.Encode(prompt);
        if (promptIds.Length == 0) throw new UsageException("option '--prompt': encodes to no tokens (and the tokenizer adds no BOS)");
        using var model = HfModelFolder.Load(folder, dtype, device);
        // Applied in place: the adapter's layers wrap the model's projections.
        HfOptions.ApplyAdapter(r.GetValue(Adapter), model);
        HfOptions.CheckFits(folder, model, promptIds.Max(), promptIds.Length, "option '--prompt'");
        var stops = tokenizer.StopIds.Concat(EosIds(folder, generation)).Where(i => i >= 0 && i < model.Config.VocabSize).Distinct().ToList();
        var options = new GenerationOptions { MaxNewTokens = maxNew, Greedy = greedy, Temperature = temperature, TopP = topP, EosTokenIds = stops, BatchSize = 1 };
        // Without --seed each run draws differently; with it, the same seed draws the same tokens.
        using var generator = greedy ? null : new Generator((ulong)(seed ?? Random.Shared.NextInt64()), device);
        var result = HfGeneration.Generate(model, [promptIds], options, generator)[0];
        var text = tokenizer.Decode(result.Ids);
        if (!r.GetValue(Json))
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
