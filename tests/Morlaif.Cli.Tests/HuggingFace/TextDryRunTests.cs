using Morlaif.Cli.Tests.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.Workers.Text;

namespace Morlaif.Cli.Tests.HuggingFace;

/// <summary>
/// A text run's config and inputs are checked, and its costs printed, before anything is paid for:
/// `morlaif start --dry-run` and `morlaif run --dry-run` read the model folder, the prompt and human files as the run
/// would, and each problem is one line naming the file, line or field.
/// </summary>
public class TextDryRunTests
{
    private sealed class TextRun : IDisposable
    {
        private readonly TinyHf.TempFolder _temp = new();

        public TextRun(int prompts = 16, string principles = "\"helpfulness\", \"conciseness\"", string extraPrompt = "")
        {
            CheckpointFolders.Write("gpt2", _temp);
            Directory.CreateDirectory(Path.Combine(_temp.Path, "data"));
            // Half HH-RLHF rows, half TRL prompt rows; one HH conversation twice (it counts once).
            var lines = Enumerable.Range(0, prompts).Select(i => i % 2 == 0
                ? $$"""{"chosen": "\n\nHuman: question {{i}}?\n\nAssistant: yes", "rejected": "\n\nHuman: question {{i}}?\n\nAssistant: no"}"""
                : $$"""{"prompt": "Tell me about {{i}}."}""").Append("""{"chosen": "\n\nHuman: question 0?\n\nAssistant: sure", "rejected": "\n\nHuman: question 0?\n\nAssistant: nope"}""");
            if (extraPrompt.Length > 0) lines = lines.Append(extraPrompt);
            File.WriteAllLines(Path.Combine(_temp.Path, "data", "prompts.jsonl"), lines);
            File.WriteAllLines(Path.Combine(_temp.Path, "data", "human.jsonl"), Enumerable.Range(0, 24).Select(i =>
                $$"""{"chosen": "\n\nHuman: h{{i}}?\n\nAssistant: good", "rejected": "\n\nHuman: h{{i}}?\n\nAssistant: bad"}"""));
            Config = Path.Combine(_temp.Path, "text.json");
            File.WriteAllText(Config, $$"""
                { "task": "text", "seed": 1, "principles": [{{principles}}],
                  "model": { "path": "gpt2" },
                  "data": { "prompts": "data/prompts.jsonl", "human": "data/human.jsonl" },
                  "judge": { "kind": "openai", "endpoint": "http://127.0.0.1:9/v1", "model": "judge", "apiKeyEnv": "JUDGE_KEY" },
                  "baseline": "constitution",
                  "pairs": { "train": 6, "test": 20 }, "ppo": { "iterations": 2, "rolloutsPerIteration": 4, "maxNewTokens": 8, "miniBatches": 2 },
                  "evaluation": { "prompts": 3 } }
                """);
        }

        public string Config { get; }

        public string Root => _temp.Path;

        public void Dispose() => _temp.Dispose();
    }

    [Fact]
    public void Dry_run_prints_the_judge_calls_tokens_and_steps_and_starts_nothing()
    {
        using var run = new TextRun(prompts: 30);
        // No server is reachable at these addresses: a dry run needs none.
        var env = new Dictionary<string, string?> { ["ConnectionStrings__rabbitmq"] = "amqp://guest:guest@127.0.0.1:9/", ["ConnectionStrings__blobs"] = null };
        var (exit, stdout, stderr, _) = MorlaifProcess.Run(env, TimeSpan.FromMinutes(2), "start", "--config", run.Config, "--dry-run");
        Assert.True(exit == 0, stderr);
        // 26 pairs x 2 principles x 2 orders = 104; the baseline 26 x 2 = 52; 3 evaluation prompts x 2 orders = 6; the
        // monitor (on for text) checks each arm once (2 iterations: its last), 6 prompts (one per training pair) x 2 principles x 2 orders = 24 per arm.
        Assert.Contains("judge calls                 210  (labels 104, baseline 52, evaluation 6, monitor 48)", stdout);
        // Pairs 26 x 2 x 8 = 416; PPO 2 arms x 2 iterations x 4 rollouts x 8 = 128; evaluation 2 x 3 x 8 = 48; the monitor's
        // answers per arm, the policy's at its check and the SFT policy's once per chunk: 2 x 6 x 8 = 96.
        Assert.Contains("generated tokens            784", stdout);
        Assert.Contains("26 for pairs, 3 for evaluation (disjoint)", stdout);
        Assert.Contains("nothing was started", stdout);
        var (runExit, runOut, runErr) = MorlaifProcess.Run("run", "--config", run.Config, "--dry-run", "--out", Path.Combine(run.Root, "runs"));
        Assert.True(runExit == 0, runErr);
        Assert.Contains("judge calls", runOut);
        Assert.False(Directory.Exists(Path.Combine(run.Root, "runs")));
    }

    [Fact]
    public void Pm_top_layers_beyond_the_pm_base_are_one_error_naming_the_field()
    {
        using var run = new TextRun(prompts: 30);
        var config = RunConfig.Load(run.Config);
        Assert.Null(config.Model.Lora.PmTopLayers);
        var top = config with { Model = config.Model with { Lora = config.Model.Lora with { PmTopLayers = 3 } } };
        var e = Assert.Throws<ConfigException>(() => TextRunInputs.Read(top));
        Assert.Equal("config field 'model.lora.pmTopLayers': 3 layers, but the PM base has 2", e.Message);
        TextRunInputs.Read(top with { Model = top.Model with { Lora = top.Model.Lora with { PmTopLayers = 2 } } });
    }

    [Fact]
    public void Prompts_are_drawn_into_disjoint_sets_by_the_seed()
    {
        using var run = new TextRun(prompts: 30);
        var config = RunConfig.Load(run.Config);
        var a = TextRunInputs.Read(config);
        Assert.Equal(26, a.PairPrompts.Count);
        Assert.Equal(3, a.EvaluationPrompts.Count);
        Assert.Empty(a.PairPrompts.Intersect(a.EvaluationPrompts));
        Assert.Equal(26, a.PairPrompts.Distinct().Count());
        Assert.Equal(a.PairPrompts, TextRunInputs.Read(config).PairPrompts);
        Assert.NotEqual(a.PairPrompts, TextRunInputs.Read(config.WithSeed(2)).PairPrompts);
        Assert.Contains("\n\nHuman: question 0?\n\nAssistant:", a.PairPrompts.Concat(a.EvaluationPrompts).Append(""), StringComparer.Ordinal);
    }

    [Fact]
    public void Bad_inputs_are_one_line_naming_the_file_line_or_field()
    {
        void Expect(TextRun run, params string[] expected)
        {
            var (exit, _, stderr) = MorlaifProcess.Run("start", "--config", run.Config, "--dry-run");
            GenerateCommandTests.AssertOneLineError(exit, stderr, expected);
        }
        using (var small = new TextRun(prompts: 10)) Expect(small, "prompts.jsonl", "has 10 distinct prompts", "need 29");
        using (var bad = new TextRun(prompts: 40, extraPrompt: """{"chosen": "no assistant turn", "rejected": "x"}""")) Expect(bad, "prompts.jsonl:42");
        using (var unknown = new TextRun(principles: "\"helpfulness\", \"kindness\"")) Expect(unknown, "principles[1]", "kindness");
        using (var longPrompt = new TextRun(prompts: 40, extraPrompt: $$"""{"prompt": "{{new string('x', 400)}}"}"""))
        {
            // Not every draw takes the long prompt: ask for all of them.
            File.WriteAllText(longPrompt.Config, File.ReadAllText(longPrompt.Config).Replace("\"prompts\": 3", "\"prompts\": 15"));
            Expect(longPrompt, "prompts.jsonl:42", "n_positions 128");
        }
        using (var noModel = new TextRun())
        {
            File.WriteAllText(noModel.Config, File.ReadAllText(noModel.Config).Replace("\"path\": \"gpt2\"", "\"path\": \"nowhere\""));
            Expect(noModel, "model.path", "nowhere", "is not a folder");
        }
        using (var world = new TextRun())
        {
            File.WriteAllText(world.Config, File.ReadAllText(world.Config).Replace("\"task\": \"text\", ", "").Replace("constitution", "overall"));
            Expect(world, "model.path", "is for task 'text'");
        }
        using (var text = new TextRun(prompts: 30))
        {
            // Without --dry-run the same checks come first: a bad line is one error, and nothing is started or stored.
            var human = Path.Combine(text.Root, "data", "human.jsonl");
            File.WriteAllLines(human, File.ReadAllLines(human).Select((l, i) => i == 2 ? """{"chosen": "no conversation here", "rejected": "x"}""" : l));
            var (exit, _, stderr) = MorlaifProcess.Run("run", "--config", text.Config, "--out", Path.Combine(text.Root, "runs"));
            GenerateCommandTests.AssertOneLineError(exit, stderr, "human.jsonl:3");
            Assert.False(Directory.Exists(Path.Combine(text.Root, "runs")));
        }
    }
}
