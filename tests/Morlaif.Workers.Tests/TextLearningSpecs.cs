using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.Learning.TextRuns;
using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.Learning.Training;
using Morlaif.Storage;
using Morlaif.TestServers;
using Morlaif.Workers.Pipeline;
using Xunit.Abstractions;

namespace Morlaif.Workers.Tests;

/// <summary>
/// A text run learns what its judge asks, through every stage on the in-memory bus. The policy is a tiny GPT-2 the test
/// pre-trains for seconds to answer a yes/no question briefly or at length and then stop; the judge reads the question it
/// is asked and prefers the shorter answer for conciseness, the longer one otherwise (helpfulness, every constitution
/// principle); the human pairs choose the shorter answer in 80%. So the fitted weights must favour conciseness, the
/// MORLAIF arm's PPO must shorten the answers and the constitution baseline's lengthen them. A sequence scored one way in
/// PM training and another in the weight fit (the human responses without the eos) gave conciseness a negative weight.
/// </summary>
[Trait("Category", "Slow")]
public class TextLearningSpecs(ITestOutputHelper output)
{
    private static readonly string[] Topics = ["the sea", "bread", "a lamp", "rain", "chess", "a river", "tea", "the moon", "glass", "wool", "a bell", "snow"];
    private static readonly string[] Short = [" Yes.", " No.", " Sure."];
    private static readonly string[] Long = [" Yes, it is good for most people.", " No, it is not a good thing at all.", " Sure, many people like it a lot."];

    private static string Prompt(string topic) => $"\n\nHuman: Is {topic} good?\n\nAssistant:";

    [Fact]
    public async Task The_weights_favour_the_principle_the_humans_agree_with_and_each_arm_moves_length_the_way_its_reward_asks()
    {
        await using var judge = new FakeChatServer().Then(new FakeChatServer.ByLength(0.9));
        using var temp = new TinyHf.TempFolder();
        var model = CheckpointFolders.Write("gpt2", temp);
        Pretrain(model);
        var config = RunConfig.Load(WriteRun(temp.Path, judge.Endpoint.ToString()));
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();

        var m = await pipeline.WaitAsync(await pipeline.StartRunAsync(config), timeout: TimeSpan.FromMinutes(8));
        Assert.True(m.State == RunState.Completed, $"{m.State}: {m.Error}");
        var report = ReportFiles.FromJson(await pipeline.Store.GetAsync(m.Stages[StageKeys.Evaluate].Outputs[StageOutputs.Report]));

        var weights = report.Weights;
        output.WriteLine($"weights: {string.Join(", ", weights.Select(kv => $"{kv.Key} {kv.Value:F2}"))}; PM held-out accuracy: "
            + string.Join(", ", report.PreferenceModels.Select(kv => $"{kv.Key} {kv.Value.HeldOutAccuracy:F2}")));
        double Tokens(string arm, Func<IEnumerable<Learning.Ppo.PpoIterationStats>, IEnumerable<Learning.Ppo.PpoIterationStats>> part) =>
            part(report.Ppo[arm]).Average(s => s.MeanResponseTokens);
        var third = config.Ppo.Iterations / 3;
        var (morlaif, baseline) = ((First: Tokens("morlaif", s => s.Take(third)), Last: Tokens("morlaif", s => s.TakeLast(third))),
            (First: Tokens("baseline", s => s.Take(third)), Last: Tokens("baseline", s => s.TakeLast(third))));
        output.WriteLine($"response tokens, first third -> last third of PPO: MORLAIF {morlaif.First:F1} -> {morlaif.Last:F1}, baseline {baseline.First:F1} -> {baseline.Last:F1}");

        // The two PMs read the same feature with opposite signs, so the fit may share it between them: what must hold is
        // that conciseness counts for and above helpfulness. Seen here: +0.27 and -0.47, +0.70 and -1.14; without the eos
        // in the weight fit's sequences: -0.27 and -0.93.
        Assert.True(weights["conciseness"] > 0.1, $"conciseness weight {weights["conciseness"]:F2}: the human pairs choose the shorter answer in 80%");
        Assert.True(weights["conciseness"] > weights["helpfulness"] + 0.5, $"weights: conciseness {weights["conciseness"]:F2}, helpfulness {weights["helpfulness"]:F2}");
        Assert.True(morlaif.Last < morlaif.First - 2, $"MORLAIF's answers {morlaif.First:F1} -> {morlaif.Last:F1} tokens");
        Assert.True(baseline.Last > baseline.First + 2, $"the baseline's answers {baseline.First:F1} -> {baseline.Last:F1} tokens");
    }

    /// <summary>
    /// A few seconds of training on every topic answered briefly or at length (then the eos), so the model varies the
    /// length of what it says and stops; written back to the folder as the run's base.
    /// </summary>
    private static void Pretrain(string folder)
    {
        using var tokenizer = Learning.HuggingFace.Tokenization.PreTrainedTokenizer.FromPretrained(folder);
        using var model = HfModelFolder.Load(folder);
        // Brief answers twice as often as full ones: room for either arm to move the length its way.
        var demos = Topics.SelectMany(t => Short.Concat(Short).Concat(Long).Select(a => HfSftPolicy.Demonstrate(tokenizer, Prompt(t), a, model.Config.MaxPositions)!.Value)).ToList();
        SupervisedFineTuning.Train(HfSftPolicy.Full(model), demos, SftSettings.Constant(epochs: 30, batchSize: 16, learningRate: 3e-3), new Random(1));
        HfModelFolder.Save(model, folder);
    }

    /// <summary>The run's data and config: pair and evaluation prompts over the topics, human pairs choosing the shorter answer in 80%.</summary>
    private static string WriteRun(string root, string endpoint)
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        string Row(string prompt, string chosen, string rejected) =>
            System.Text.Json.JsonSerializer.Serialize(new { chosen = prompt + chosen, rejected = prompt + rejected });
        File.WriteAllLines(Path.Combine(data, "prompts.jsonl"), Enumerable.Range(0, 80).Select(i => Row(Prompt($"{Topics[i % Topics.Length]} ({i})"), " Yes.", " No.")));
        var rng = new Random(5);
        File.WriteAllLines(Path.Combine(data, "human.jsonl"), Enumerable.Range(0, 100).Select(i =>
        {
            var (brief, full) = (Short[i % 3], Long[rng.Next(3)]);
            return rng.NextDouble() < 0.8 ? Row(Prompt(Topics[i % Topics.Length]), brief, full) : Row(Prompt(Topics[i % Topics.Length]), full, brief);
        }));
        var config = Path.Combine(root, "text.json");
        File.WriteAllText(config, $$"""
            { "task": "text", "seed": 3, "principles": ["conciseness", "helpfulness"],
              "model": { "path": "gpt2", "lora": { "rank": 4, "alpha": 16 } },
              "data": { "prompts": "data/prompts.jsonl", "human": "data/human.jsonl" },
              "judge": { "kind": "openai", "endpoint": "{{endpoint}}", "model": "fake-judge", "concurrency": 8 },
              "baseline": "constitution",
              "pairs": { "train": 48, "test": 16 },
              "preferenceModel": { "epochs": 12, "batchSize": 8, "learningRate": 0.005 },
              "ppo": { "iterations": 12, "iterationsPerChunk": 6, "rolloutsPerIteration": 16, "maxNewTokens": 40, "epochs": 2, "miniBatches": 2, "learningRate": 0.003 },
              "evaluation": { "prompts": 6 } }
            """);
        return config;
    }
}
