using System.Text.Json;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Cli.Tests;

/// <summary>One tiny run through the embedded pipeline (all five workers, in-memory bus, a local store), completed.</summary>
public sealed class TinyCompletedRun : IAsyncLifetime
{
    public const string ConfigJson = """
        { "seed": 5, "principles": ["helpfulness", "conciseness"], "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 600, "epochs": 2, "batchSize": 64 },
          "pairs": { "train": 80, "test": 40, "human": 40, "accuracy": 80 }, "preferenceModel": { "epochs": 1 },
          "ppo": { "iterations": 4, "iterationsPerChunk": 2, "rolloutsPerIteration": 16, "maxNewTokens": 24 }, "evaluation": { "prompts": 30 } }
        """;

    public string Root { get; } = Directory.CreateTempSubdirectory("morlaif-lineage-").FullName;
    public string RunId { get; private set; } = "";
    public RunManifest Manifest { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await using var pipeline = await EmbeddedPipeline.StartAsync(Root, "cpu", new CliLogging(Console: false));
        RunId = await pipeline.StartRunAsync(RunConfig.Parse(ConfigJson));
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(10)); // against a hung run, not a speed test
        Manifest = await pipeline.WaitAsync(RunId, guard.Token);
        Assert.Equal(RunState.Completed, Manifest.State);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>`morlaif lineage` on a real completed run: "which labels and which judge made this policy?"</summary>
[Trait("Category", "Slow")]
public class LineageCommandTests(TinyCompletedRun run) : IClassFixture<TinyCompletedRun>
{
    private static readonly string[] Questions = ["helpfulness", "conciseness", "constitution"];

    private (int Exit, string Stdout, string Stderr) Lineage(params string[] args) =>
        MorlaifProcess.Run(["lineage", .. args, "--storage", "local", "--store", run.Root]);

    [Fact]
    public void Each_policys_lineage_reaches_every_questions_labels_the_judge_and_the_config_with_the_manifests_hashes()
    {
        var (exit, stdout, stderr) = Lineage(run.RunId, "--json");
        Assert.True(exit == 0, stderr);
        var doc = JsonDocument.Parse(stdout).RootElement;
        var manifest = run.Manifest;
        Assert.Equal(run.RunId, doc.GetProperty("runId").GetString());
        Assert.Equal(manifest.Config.Sha256, doc.GetProperty("config").GetProperty("sha256").GetString());
        Assert.Equal(manifest.Config.Length, doc.GetProperty("config").GetProperty("length").GetInt64());
        Assert.Equal("synthetic", doc.GetProperty("judge").GetProperty("kind").GetString());

        // Every record of the manifest, with exactly its outputs, hashes, sizes and attempts.
        var records = doc.GetProperty("records").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!);
        Assert.Equal(manifest.Stages.Keys.Order(), records.Keys.Order());
        foreach (var (key, stage) in manifest.Stages)
        {
            var outputs = records[key].GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
            Assert.Equal(stage.Outputs.Keys.Order(), outputs.Keys.Order());
            foreach (var (name, reference) in stage.Outputs)
            {
                Assert.Equal(reference.Sha256, outputs[name].GetProperty("sha256").GetString());
                Assert.Equal(reference.Length, outputs[name].GetProperty("length").GetInt64());
                Assert.Equal(reference.Name, outputs[name].GetProperty("blob").GetString());
            }
            Assert.Equal(stage.Attempts, records[key].GetProperty("attempts").GetInt32());
            Assert.Equal("Done", records[key].GetProperty("state").GetString());
        }
        // The label records name the judge; no other record does.
        foreach (var (key, record) in records)
            Assert.Equal(key.StartsWith("label/", StringComparison.Ordinal) ? "synthetic" : null,
                record.GetProperty("judge") is { ValueKind: JsonValueKind.Object } j ? j.GetProperty("kind").GetString() : null);

        var policies = doc.GetProperty("products").EnumerateArray().Where(p => p.GetProperty("kind").GetString() == "policy").ToList();
        Assert.Equal(["morlaif", "baseline"], policies.Select(p => p.GetProperty("name").GetString()));
        foreach (var policy in policies)
        {
            var name = policy.GetProperty("name").GetString()!;
            var final = $"ppo/{name}/0002";
            Assert.Equal(final, policy.GetProperty("record").GetString());
            Assert.Equal(manifest.Stages[final].Outputs["checkpoint"].Sha256, policy.GetProperty("artifact").GetProperty("sha256").GetString());
            var lineage = policy.GetProperty("lineage").EnumerateArray().Select(e => e.GetString()).ToList();
            foreach (var q in Questions)
            {
                Assert.Contains($"label/{q}", lineage);
                Assert.Contains($"train-pm/{q}", lineage);
            }
            Assert.Contains("scalarize", lineage);
            Assert.Contains($"ppo/{name}/0000", lineage);
            Assert.Contains("sft", lineage);
            Assert.Contains("config", lineage); // where every chain starts
            // The reward PPO trained on, and the PMs it scores with: all principles for morlaif, the baseline's one PM.
            var reward = policy.GetProperty("reward");
            Assert.Equal(name, reward.GetProperty("kind").GetString());
            Assert.Equal(name == "morlaif" ? new[] { "train-pm/helpfulness", "train-pm/conciseness" } : ["train-pm/constitution"],
                reward.GetProperty("preferenceModels").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal(name == "morlaif" ? "linear" : null, reward.GetProperty("scalarization").GetString());
            Assert.DoesNotContain("evaluate", lineage);
            Assert.DoesNotContain(lineage, k => k!.StartsWith("ppo/", StringComparison.Ordinal) && !k.StartsWith($"ppo/{name}/", StringComparison.Ordinal));
        }

        // A PM stands on its own question's labels only.
        var pm = doc.GetProperty("products").EnumerateArray().Single(p => p.GetProperty("kind").GetString() == "preference-model" && p.GetProperty("name").GetString() == "conciseness");
        Assert.Equal(["sft", "label/conciseness", "config"], pm.GetProperty("lineage").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void The_tree_shows_each_record_with_its_short_hash_and_the_judge_once()
    {
        var (exit, stdout, stderr) = Lineage(run.RunId);
        Assert.True(exit == 0, stderr);
        Assert.False(stdout.Contains('\u001b'), stdout); // redirected: no escape codes (a char: the culture-aware string search ignores ESC)
        foreach (var (key, stage) in run.Manifest.Stages.Where(s => s.Key != "evaluate"))
        {
            Assert.Contains(key, stdout);
            foreach (var output in stage.Outputs.Values) Assert.Contains(output.Sha256[..LineageCommand.ShortHash], stdout);
        }
        Assert.Contains($"config: {run.Manifest.Config.Sha256[..LineageCommand.ShortHash]}", stdout);
        // The morlaif policy's line, then its reward and the labels behind it; a PM's, then its labels.
        var lines = stdout.Split('\n');
        var policy = Array.FindIndex(lines, l => l.Contains("policy morlaif = ppo/morlaif/0002", StringComparison.Ordinal));
        Assert.True(policy > 0, stdout);
        Assert.Contains("reward morlaif (linear) on train-pm/helpfulness, train-pm/conciseness, from the labels label/helpfulness, label/conciseness (judge synthetic)",
            lines[policy + 1]);
        var pm = Array.FindIndex(lines, l => l.Contains("preference-model constitution = train-pm/constitution", StringComparison.Ordinal));
        Assert.Contains("made from the labels label/constitution (judge synthetic)", lines[pm + 1]);
        // Shared records are drawn once, then named.
        Assert.Single(lines, l => l.Contains("sft: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("sft (above)", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_run_is_one_line_and_exit_2_as_in_status()
    {
        var (exit, stdout, stderr) = Lineage("20260101-000000-s1-abcdef");
        Assert.Equal(2, exit);
        Assert.Equal("morlaif: run '20260101-000000-s1-abcdef' has no manifest", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Trim());
        Assert.Equal("", stdout);
        var (statusExit, _, statusErr) = MorlaifProcess.Run("status", "20260101-000000-s1-abcdef", "--storage", "local", "--store", run.Root);
        Assert.Equal((exit, stderr), (statusExit, statusErr));

        (exit, _, stderr) = Lineage("Not_A_Run");
        Assert.Equal(2, exit);
        Assert.Contains("not valid", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
