using System.Text.Json;
using Morlaif.Learning.Runs;
using TorchSharp;

namespace Morlaif.Learning.Tests.Runs;

public class EndToEndRunTests
{
    private static readonly RunConfig Small = RunConfig.Parse("""
        {
          "seed": 3,
          "sft": { "demonstrations": 1500, "epochs": 3 },
          "pairs": { "train": 300, "test": 120, "human": 120, "accuracy": 400 },
          "preferenceModel": { "epochs": 1 },
          "ppo": { "iterations": 3, "rolloutsPerIteration": 32 },
          "evaluation": { "prompts": 60 }
        }
        """);

    [Fact]
    [Trait("Category", "Slow")]
    public void A_small_run_writes_every_report_field()
    {
        var report = new ReferenceRun(Small, torch.CPU).Execute("e2e");
        using var json = JsonDocument.Parse(ReportFiles.ToJson(report));
        var root = json.RootElement;

        Assert.Equal("e2e", root.GetProperty("runId").GetString());
        var principles = root.GetProperty("principles").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(Small.Principles, principles);
        foreach (var p in principles.Append(Small.Baseline))
        {
            var acc = root.GetProperty("preferenceModels").GetProperty(p).GetProperty("heldOutAccuracy").GetDouble();
            Assert.InRange(acc, 0, 1);
        }
        Assert.Equal("linear", root.GetProperty("scalarization").GetString());
        foreach (var f in new[] { "linear", "worst-case", "soft-max-min", "uncertainty-weighted", "lower-quantile", "max-median", "bernoulli-nash", "single" })
            Assert.InRange(root.GetProperty("objectiveAccuracy").GetProperty(f).GetDouble(), 0, 1);
        var ablation = root.GetProperty("ablation").EnumerateArray().ToList();
        Assert.Equal(principles.Count, ablation.Count);
        Assert.Equal(principles.Count, ablation[0].GetProperty("principles").GetInt32());
        Assert.Equal(1, ablation[^1].GetProperty("principles").GetInt32());
        Assert.All(ablation, a => Assert.InRange(a.GetProperty("accuracy").GetDouble(), a.GetProperty("lowest").GetDouble() - 1e-9, a.GetProperty("highest").GetDouble() + 1e-9));
        Assert.Equal(120, root.GetProperty("weightsFittedOn").GetInt32());
        Assert.InRange(root.GetProperty("accuracyMeasuredOn").GetInt32(), 300, 400); // the pairs the truth decides
        foreach (var comparison in new[] { "vsBaseline", "judgeVsBaseline" })
        {
            var w = root.GetProperty("evaluation").GetProperty(comparison);
            var sum = w.GetProperty("win").GetDouble() + w.GetProperty("tie").GetDouble() + w.GetProperty("loss").GetDouble();
            Assert.Equal(1.0, sum, 9);
            Assert.Equal(60 * 4, w.GetProperty("total").GetInt32());
        }
        foreach (var stage in new[] { "sft", "sft/train", "sft/pairs", "label", "train-pm", "scalarize", "ppo/morlaif", "ppo/baseline", "evaluate", "total" })
            Assert.True(root.GetProperty("timings").GetProperty(stage).GetDouble() > 0, stage);
        Assert.Equal(3, root.GetProperty("ppo").GetProperty("morlaif").GetArrayLength());
        // Every iteration records what the rollouts are worth in truth, for the true preference and each of the world's scorers.
        foreach (var iteration in root.GetProperty("ppo").GetProperty("baseline").EnumerateArray())
            Assert.Equal(8, iteration.GetProperty("truth").EnumerateObject().Count(p => double.IsFinite(p.Value.GetDouble())));
        Assert.Equal(JsonValueKind.Object, root.GetProperty("rewardHacking").GetProperty("morlaif").ValueKind);

        var md = ReportFiles.ToMarkdown(report);
        Assert.Contains("## PPO", md);
        Assert.Contains("MORLAIF policy vs single-objective baseline", md);
        Assert.Contains("Ablation", md);
    }
}
