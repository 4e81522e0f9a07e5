using Morlaif.Learning.Experiments;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Tests.Runs;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Stages;
using TorchSharp;

namespace Morlaif.Cli.Tests;

public sealed class ExperimentRunTests : IDisposable
{
    /// <summary>Each test's own folder (xUnit makes a new instance per test), removed after it.</summary>
    private readonly string _dir = Directory.CreateTempSubdirectory("morlaif-experiment-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string RunJson = """
        { "principles": ["helpfulness", "conciseness"], "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 600, "epochs": 2, "batchSize": 64 },
          "pairs": { "train": 80, "test": 40, "human": 40, "accuracy": 80 }, "preferenceModel": { "epochs": 1 },
          "ppo": { "iterations": 4, "rolloutsPerIteration": 16, "maxNewTokens": 24, "learningRate": 0.003 }, "evaluation": { "prompts": 30 } }
        """;

    private const string ExperimentJson = """
        { "run": "run.json", "grids": [
            { "name": "policies", "seeds": [1, 2] },
            { "name": "budgets", "seeds": [1, 2], "budgets": [40, 80], "policies": false },
            { "name": "scalarizers", "seeds": [1], "scalarizations": ["linear", "worst-case"] } ] }
        """;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_tiny_grid_runs_end_to_end_resumes_and_agrees_with_single_runs()
    {
        var dir = _dir;
        File.WriteAllText(Path.Combine(dir, "run.json"), RunJson);
        File.WriteAllText(Path.Combine(dir, "experiment.json"), ExperimentJson);
        var (experiment, run) = ExperimentConfig.Load(Path.Combine(dir, "experiment.json"));
        var results = Path.Combine(dir, "results");
        var cells = experiment.Cells(run);
        Assert.Equal(["s1-b80-constitution", "s2-b80-constitution", "s1-b40-constitution", "s1-b80-constitution", "s2-b40-constitution", "s2-b80-constitution", "s1-b80-constitution"],
            cells.Select(c => c.Id));

        var log = new List<string>();
        await new ExperimentRunner(run, results, "cpu", log.Add).RunAsync(cells);
        var report = ExperimentReport.Build(experiment, run, results);

        // Two seeds, two budgets: every figure stands on what was asked of it.
        Assert.Equal(4, report.Cells);
        Assert.Equal(2, report.Finding1!.Seeds);
        Assert.Equal(60, report.Finding1.Prompts);
        Assert.Equal([40, 80], report.Finding3.Select(b => b.Budget));
        Assert.All(report.Finding3, b => Assert.Equal(2, b.Seeds));
        Assert.Equal(["linear", "worst-case"], report.Finding2VsBaseline.Select(c => c.X));
        Assert.All(report.Finding2VsBaseline, c => Assert.Equal(1, c.Seeds));
        // Scalarizers against each other too, paired on the same seeds and prompts.
        Assert.Equal([("linear", "worst-case")], report.Finding2Pairs.Select(c => (c.X, c.Y)));
        Assert.Equal([2, 1], report.Finding4.Select(a => a.Principles));
        Assert.Equal(3, report.Ppo.Count);
        // 30 prompts of which round(30 x 0.25) = 8 asked with unseen templates, 4 samples each; the control on both seeds.
        Assert.Equal(16, report.Finding1Unseen!.Prompts);
        Assert.Equal([("linear", ScalarizationStage.ControlArm), (ScalarizationStage.ControlArm, ScalarizationStage.BaselineArm)],
            report.Controls.Select(c => (c.X, c.Y)));
        Assert.All(report.Finding3, b => Assert.InRange(b.Control!.Estimate, 0.01, 0.99));

        // The grid's MORLAIF and baseline policies are those of a single run of the same config and seed: the same
        // per-prompt comparison.
        var single = new ReferenceRun(experiment.Cells(run)[0].Config(run), torch.CPU).Execute("single");
        var linear = CellFiles.Read<PolicyResult>(new CellFiles(results, cells[0]).PolicyPath("linear"));
        var baseline = CellFiles.Read<PolicyResult>(new CellFiles(results, cells[0]).PolicyPath(ScalarizationStage.BaselineArm));
        Assert.Equal(30 * 4, linear.Truth.Count);
        Assert.Equal(single.Evaluation!.VsBaseline, WinTieLoss.Count(linear.Against(baseline, run.Evaluation.TieTolerance).SelectMany(o => o)));
        Assert.Equal(single.Evaluation.UnseenVsBaseline, WinTieLoss.Count(linear.Against(baseline, run.Evaluation.TieTolerance, unseenOnly: true).SelectMany(o => o)));
        Assert.Equal(single.ObjectiveAccuracy["linear"], CellFiles.Read<FitResult>(new CellFiles(results, cells[0]).FitPath).ObjectiveAccuracy["linear"]);

        // A rerun trains nothing and writes nothing.
        var written = Directory.GetFiles(results, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        log.Clear();
        await new ExperimentRunner(run, results, "cpu", log.Add).RunAsync(cells);
        Assert.All(log, line => Assert.Contains("skipped", line));
        Assert.All(written, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key)));

        ExperimentReport.Write(report, results);
        Assert.Contains("## 3. Combined objective", File.ReadAllText(Path.Combine(results, "experiment.md")));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_grid_of_algorithms_trains_each_on_the_same_rollouts_and_compares_them()
    {
        var dir = _dir;
        File.WriteAllText(Path.Combine(dir, "run.json"), RunJson);
        File.WriteAllText(Path.Combine(dir, "experiment.json"), """{ "run": "run.json", "grids": [ { "seeds": [1], "algorithms": ["ppo", "grpo"] } ] }""");
        var (experiment, run) = ExperimentConfig.Load(Path.Combine(dir, "experiment.json"));
        var results = Path.Combine(dir, "results");
        var cell = Assert.Single(experiment.Cells(run));
        await new ExperimentRunner(run, results, "cpu").RunAsync([cell]);
        var report = ExperimentReport.Build(experiment, run, results);

        Assert.Equal([("ppo", "baseline"), ("grpo", "baseline"), ("ppo", "linear"), ("grpo", "linear")], report.Algorithms.Select(a => (a.Algorithm, a.Arm)));
        foreach (var a in report.Algorithms)
        {
            // 4 iterations of 16 rollouts of at most 24 tokens, whatever the algorithm.
            Assert.InRange(a.GeneratedTokens, 4 * 16, 4 * 16 * 24);
            Assert.True(a.Seconds > 0, $"{a.Algorithm} {a.Arm}: no PPO time");
            Assert.Equal(a.TruePreference.Estimate - a.VsSft.Estimate,
                CellFiles.Read<PolicyResult>(new CellFiles(results, cell).PolicyPath(EvaluationStage.Sft)).Truth.Average(), 9);
        }
        // Each arm ran its own algorithm: GRPO has no value head, so no value loss.
        var arms = cell.Arms.Skip(1).Select(a => CellFiles.Read<PolicyResult>(new CellFiles(results, cell).PolicyPath(a))).ToList();
        Assert.All(arms, p => Assert.All(p.Ppo, i => Assert.Equal(p.Arm.EndsWith("@grpo"), double.IsNaN(i.ValueLoss))));

        ExperimentReport.Write(report, results);
        Assert.Contains("## RL algorithms at a matched number of generated tokens", File.ReadAllText(Path.Combine(results, "experiment.md")));
    }

    /// <summary>A cell's result files with what may differ between two computations of the same results taken out: wall times.</summary>
    private static SortedDictionary<string, string> ResultsWithoutTimes(string results)
    {
        static void Strip(System.Text.Json.Nodes.JsonNode? node)
        {
            if (node is System.Text.Json.Nodes.JsonObject o)
            {
                o.Remove("seconds");
                foreach (var (_, v) in o.ToList()) Strip(v);
            }
            else if (node is System.Text.Json.Nodes.JsonArray a)
                foreach (var v in a) Strip(v);
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(Path.Combine(results, "cells"), "*.json", SearchOption.AllDirectories))
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f));
            Strip(json);
            files[Path.GetRelativePath(results, f)] = json!.ToJsonString();
        }
        return files;
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void The_same_grid_computed_twice_gives_the_same_results_to_the_last_bit()
    {
        var dir = _dir;
        File.WriteAllText(Path.Combine(dir, "run.json"), RunJson);
        File.WriteAllText(Path.Combine(dir, "experiment.json"), """{ "run": "run.json", "grids": [ { "seeds": [1], "scalarizations": ["linear", "worst-case"] } ] }""");
        var (experiment, run) = ExperimentConfig.Load(Path.Combine(dir, "experiment.json"));
        var first = Path.Combine(dir, "first");
        var second = Path.Combine(dir, "second");
        // Each its own `morlaif experiment` process, as a user would run it: this test host's other tests set torch's
        // (process-wide) thread count while they run, which an in-process grid would share.
        foreach (var results in new[] { first, second })
        {
            var (exit, stdout, stderr) = MorlaifProcess.Run("experiment", "--config", Path.Combine(dir, "experiment.json"), "--out", results);
            Assert.True(exit == 0, stderr + stdout);
        }

        var a = ResultsWithoutTimes(first);
        var b = ResultsWithoutTimes(second);
        // fit, control, and a policy per arm: SFT, the baseline, the control and two scalarizations.
        Assert.True(a.Count == 7, string.Join(", ", a.Keys));
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (file, json) in a) Assert.True(json == b[file], $"{file} differs between two computations");
        // And it says where and how it was computed: the CPU and the fixed thread count.
        var fit = CellFiles.Read<FitResult>(Directory.GetFiles(first, "fit.json", SearchOption.AllDirectories).Single());
        Assert.Contains($"{ExperimentRunner.ThreadsPerStage} torch thread per stage message", fit.Machine);
        Assert.Equal(ExperimentReport.Build(experiment, run, first).Machines.Keys, [fit.Machine]);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task With_evaluation_path_each_arm_is_scored_at_the_end_of_every_chunk_and_compared_at_matched_kl()
    {
        var dir = _dir;
        var runJson = System.Text.Json.Nodes.JsonNode.Parse(RunJson)!.AsObject();
        runJson["ppo"]!["iterationsPerChunk"] = 2;
        runJson["evaluation"]!["path"] = true;
        File.WriteAllText(Path.Combine(dir, "run.json"), runJson.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "experiment.json"), """{ "run": "run.json", "klLevels": [0.01, 1000], "grids": [ { "seeds": [1, 2], "scalarizations": ["linear", "worst-case"] } ] }""");
        var (experiment, run) = ExperimentConfig.Load(Path.Combine(dir, "experiment.json"));
        var results = Path.Combine(dir, "results");
        var cells = experiment.Cells(run);
        await new ExperimentRunner(run, results, "cpu").RunAsync(cells);

        foreach (var cell in cells)
        {
            var files = new CellFiles(results, cell);
            var linear = CellFiles.Read<PolicyResult>(files.PolicyPath("linear"));
            // 4 iterations in chunks of 2: the policy after iteration 2 (its first chunk's checkpoint) and after 4 (the arm's policy).
            Assert.Equal([2, 4], linear.Path!.Select(p => p.Iteration));
            Assert.Equal(linear.Prompts, linear.Path![0].Truth.Count);
            var perPrompt = Enumerable.Range(0, linear.Prompts).Select(p => Enumerable.Range(p * linear.Samples, linear.Samples).Average(i => linear.Truth[i]));
            Assert.Equal(perPrompt, linear.Path[^1].Truth);
            Assert.NotEqual(linear.Path[0].Truth, linear.Path[1].Truth); // another policy's answers
            Assert.Equal(linear.Ppo[2].MeanKl, linear.Path[0].Kl); // the KL of the first rollouts drawn from that policy
            Assert.Null(CellFiles.Read<PolicyResult>(files.PolicyPath(EvaluationStage.Sft)).Path);
        }

        var report = ExperimentReport.Build(experiment, run, results);
        // Finding 1's arms, then finding 2's other scalarization functions.
        Assert.Equal(["linear", ScalarizationStage.BaselineArm, ScalarizationStage.ControlArm, "worst-case"], report.Paths.Select(p => p.Arm));
        Assert.All(report.Paths, p => Assert.Equal([0, 2, 4], p.Points.Select(x => x.Iteration)));
        Assert.All(report.Paths, p => Assert.Equal(0, p.Points[0].VsSft.Estimate));
        // KL 0.01 is reached on every seed by every arm; KL 1000 by none.
        var low = report.AtMatchedKl.Where(c => c.Kl == 0.01).ToList();
        Assert.Equal(3, low.Count);
        Assert.All(low, c => Assert.Equal((2, 0), (c.Seeds, c.NotReached)));
        Assert.All(report.AtMatchedKl.Where(c => c.Kl == 1000), c => Assert.Equal((0, 2, "inconclusive"), (c.Seeds, c.NotReached, c.Verdict)));
        // Finding 2 at matched KL: MORLAIF's function against the other one, at each level, on both seeds where reached.
        Assert.Equal([("linear", "worst-case", 0.01, 2), ("linear", "worst-case", 1000, 0)],
            report.Finding2AtMatchedKl.Select(c => (c.X, c.Y, c.Kl, c.Seeds)));
        ExperimentReport.Write(report, results);
        var markdown = File.ReadAllText(Path.Combine(results, "experiment.md"));
        Assert.Contains("### Along the optimisation path", markdown);
        Assert.Contains("| linear | worst-case | 0.01 | 2 | 0 |", markdown);
    }
}
