using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.TestServers;

namespace Morlaif.Integration.Tests;

/// <summary>
/// A text run through RabbitMQ and Azurite with every worker a process of its own (two preference trainers): the model
/// folder and data reach the workers through blob storage only, and the exported policy is a Hugging Face folder that
/// `morlaif generate` loads.
/// </summary>
public class TextRunTests : DistributedTest
{
    [Fact]
    public async Task A_text_run_completes_through_the_servers_and_its_policy_exports_and_generates()
    {
        await using var judge = new FakeChatServer().Then(new FakeChatServer.PreferLonger(0.9));
        // Llama without SFT data: the policy's base is the PMs' base, shared in the learner. An arm for every RL algorithm:
        // MORLAIF with PPO and with GRPO, the baseline with RLOO (exported below: an adapter without a value head).
        using var files = new TextRunFiles("llama", judge.Endpoint.ToString(), sft: false, arms: """
            [ { "name": "morlaif" },
              { "name": "baseline", "reward": "baseline", "ppo": { "algorithm": "rloo", "groupSize": 2, "iterations": 4, "iterationsPerChunk": 2, "rolloutsPerIteration": 8, "maxNewTokens": 12, "epochs": 2, "learningRate": 0.001 } },
              { "name": "morlaif-grpo", "ppo": { "algorithm": "grpo", "groupSize": 4, "iterations": 4, "iterationsPerChunk": 2, "rolloutsPerIteration": 8, "maxNewTokens": 12, "epochs": 2, "learningRate": 0.001 } } ]
            """);
        Run.StartAllWorkers();
        var runId = Run.Start(files.Config);
        var manifest = Run.WaitForCompletion(runId, TimeSpan.FromMinutes(10));
        DistributedRun.AssertCompleteAndIntact(runId, manifest);
        Assert.Equal(["data", "model"], manifest.GetProperty("inputs").EnumerateObject().Select(p => p.Name));
        var report = DistributedRun.Report(manifest);
        foreach (var arm in new[] { "morlaif", "baseline", "morlaif-grpo" })
        {
            var stats = report.GetProperty("ppo").GetProperty(arm);
            Assert.Equal(4, stats.GetArrayLength());
            Assert.True(stats[3].TryGetProperty("monitor", out _), $"{arm}: the judge did not watch it"); // on by default for text
        }

        // The same model again is not uploaded again: every file of it is stored once, shared by both runs.
        var modelFiles = DistributedRun.Blobs("inputs", "model-file");
        var second = Run.Start(files.Config);
        Assert.Equal(modelFiles, DistributedRun.Blobs("inputs", "model-file"));
        Assert.Equal(manifest.GetProperty("inputs").GetProperty("model").GetProperty("name").GetString(),
            DistributedRun.Manifest(second).GetProperty("inputs").GetProperty("model").GetProperty("name").GetString());
        Run.WaitForCompletion(second, TimeSpan.FromMinutes(10));

        var exported = Path.Combine(files.Root, "policy");
        var (exit, stdout, stderr) = Run.Processes.Cli("export", runId, "--arm", "baseline", "--out", exported);
        Assert.True(exit == 0, $"export failed ({exit}): {stderr}\n{stdout}");
        Assert.True(File.Exists(Path.Combine(exported, "model.safetensors")) && File.Exists(Path.Combine(exported, "tokenizer.json")));
        (exit, stdout, stderr) = Run.Processes.Cli("generate", "--model", exported, "--prompt", "Tell me about tea.", "--max-new-tokens", "4", "--greedy", "--json");
        Assert.True(exit == 0, $"generate failed ({exit}): {stderr}");
        Assert.Contains("\"logprobs\"", stdout);
    }
}
