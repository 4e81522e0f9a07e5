namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>
/// A small text run on disk, as a user would bring it: a tiny random checkpoint folder in the real formats
/// (<see cref="CheckpointFolders"/>), HH-RLHF prompts and human pairs, optional TRL SFT data, and a config naming them
/// by paths relative to itself, with an OpenAI-compatible judge at <c>endpoint</c>.
/// </summary>
internal sealed class TextRunFiles : IDisposable
{
    private readonly TinyHf.TempFolder _temp = new();

    /// <param name="kind">"gpt2" or "llama"</param>
    /// <param name="sft">with data.sft (the SFT stage trains an adapter) or without (the base is the SFT policy)</param>
    /// <param name="arms">the config's "arms" as JSON, or null for the default two (PPO)</param>
    public TextRunFiles(string kind, string endpoint, bool sft, int pairsTrain = 24, int pairsTest = 8, int evaluation = 6, int iterations = 4, string? arms = null)
    {
        CheckpointFolders.Write(kind, _temp);
        var data = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        string[] topics = ["the sea", "bread", "a lamp", "rain", "chess", "a river", "tea", "the moon", "glass", "wool", "a bell", "snow"];
        // Each prompt an HH-RLHF row; the text after the last "Assistant:" is the row's answer, not part of the prompt.
        File.WriteAllLines(Path.Combine(data, "prompts.jsonl"), Enumerable.Range(0, pairsTrain + pairsTest + evaluation + 4).Select(i =>
            $$"""{"chosen": "\n\nHuman: Tell me about {{topics[i % topics.Length]}} ({{i}}).\n\nAssistant: It is fine.", "rejected": "\n\nHuman: Tell me about {{topics[i % topics.Length]}} ({{i}}).\n\nAssistant: No."}"""));
        // Human raters here prefer the fuller answer.
        File.WriteAllLines(Path.Combine(data, "human.jsonl"), Enumerable.Range(0, 40).Select(i =>
            $$"""{"chosen": "\n\nHuman: What is {{topics[i % topics.Length]}}?\n\nAssistant: It is a thing people know well, number {{i}}.", "rejected": "\n\nHuman: What is {{topics[i % topics.Length]}}?\n\nAssistant: Dunno."}"""));
        if (sft)
            File.WriteAllLines(Path.Combine(data, "sft.jsonl"), Enumerable.Range(0, 16).Select(i =>
                $$"""{"prompt": "\n\nHuman: Tell me about {{topics[i % topics.Length]}}.\n\nAssistant:", "completion": " It is {{topics[(i + 1) % topics.Length]}}, more or less."}"""));
        Config = Path.Combine(Root, "text.json");
        File.WriteAllText(Config, $$"""
            { "task": "text", "seed": 3, "principles": ["helpfulness", "conciseness"],
              "model": { "path": "{{kind}}", "lora": { "rank": 4, "alpha": 16 } },
              "data": { "prompts": "data/prompts.jsonl", "human": "data/human.jsonl"{{(sft ? ", \"sft\": \"data/sft.jsonl\"" : "")}} },
              "judge": { "kind": "openai", "endpoint": "{{endpoint}}", "model": "fake-judge", "concurrency": 8 },
              "baseline": "constitution",
              "sft": { "epochs": 2, "batchSize": 4, "learningRate": 0.001 },
              "pairs": { "train": {{pairsTrain}}, "test": {{pairsTest}} },
              "preferenceModel": { "epochs": 4, "batchSize": 8, "learningRate": 0.005 },
              "ppo": { "iterations": {{iterations}}, "iterationsPerChunk": 2, "rolloutsPerIteration": 8, "maxNewTokens": 12, "epochs": 2, "miniBatches": 2, "learningRate": 0.001 },
              "evaluation": { "prompts": {{evaluation}} }{{(arms is null ? "" : $", \"arms\": {arms}")}} }
            """);
    }

    public string Root => _temp.Path;

    public string Config { get; }

    public string Model => Path.Combine(Root, File.ReadAllText(Config).Contains("\"path\": \"gpt2\"") ? "gpt2" : "llama");

    public void Dispose() => _temp.Dispose();
}
