using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.Tests.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.TestServers;
using Morlaif.Workers.Evaluator;
using Morlaif.Workers.Tests;
using static TorchSharp.torch;

namespace Morlaif.Cli.Tests.HuggingFace;

/// <summary>
/// What a user does with a text run, by the commands: `morlaif run` on the config (every stage in one process), then
/// `morlaif export` of the policy and of a PM. The exported folders are checked against the independent reference
/// (Debian's PyTorch running tests/reference), which loads them as transformers and PEFT lay them out.
/// </summary>
public class TextRunCommandTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Run_then_export_gives_a_policy_and_a_pm_that_the_reference_loads_with_the_same_outputs()
    {
        await using var judge = new FakeChatServer().Then(new FakeChatServer.PreferLonger(0.9));
        using var files = new TextRunFiles("gpt2", judge.Endpoint.ToString(), sft: true);
        var runs = Path.Combine(files.Root, "runs");
        var (exit, stdout, stderr) = MorlaifProcess.Run("run", "--config", files.Config, "--out", runs);
        Assert.True(exit == 0, $"run failed ({exit}): {stderr}\n{stdout}");
        var runDir = Assert.Single(Directory.GetDirectories(runs), d => Path.GetFileName(d) != ".store");
        var runId = Path.GetFileName(runDir);
        var markdown = File.ReadAllText(Path.Combine(runDir, "report.md"));
        output.WriteLine(markdown);
        Assert.Contains("| by the judge, both orders (95% Wilson intervals", markdown);
        Assert.Contains("| constitution |", markdown);
        // The charts report.md shows are the PNG files the run wrote beside it: the judge's comparison, the three PMs, the
        // objectives and the ablation on the human pairs, PPO without a truth panel, each arm's PMs' rewards.
        Assert.Equal([ReportFiles.EvaluationChart, ReportFiles.PreferenceModelChart, ReportFiles.ObjectiveChart, ReportFiles.AblationChart, ReportFiles.PpoChart,
            ReportFiles.PrincipleRewardChart], PngChart.Linked(markdown));
        Assert.Equal(PngChart.Linked(markdown).Order(), Directory.GetFiles(runDir, "*.png").Select(Path.GetFileName).Order());
        ScottPlot.Color[] arms = [PngChart.Palette.GetColor(0), PngChart.Palette.GetColor(1)];
        // Four iterations' curves leave a line chart mostly white, how much depends on the trajectory: the white share
        // allowed is the curve charts' (ReportChartSpecs), and each arm's colour must still cover its pixels.
        PngChart.AssertShows(File.ReadAllBytes(Path.Combine(runDir, ReportFiles.PpoChart)), ReportCharts.Width, 3 * ReportCharts.PanelHeight, arms, maxWhite: 0.98);
        PngChart.AssertShows(File.ReadAllBytes(Path.Combine(runDir, ReportFiles.PreferenceModelChart)), ReportCharts.Width, ReportCharts.BarChartHeight(3), [arms[0]], absent: [arms[1]]);
        PngChart.AssertShows(File.ReadAllBytes(Path.Combine(runDir, ReportFiles.EvaluationChart)), ReportCharts.Width, ReportCharts.EvaluationChartHeight(1),
            [ReportCharts.Win, ReportCharts.Tie, ReportCharts.Loss]);

        string[] store = ["--storage", "local", "--store", Path.Combine(runs, ".store")];
        var policy = Path.Combine(files.Root, "policy");
        (exit, _, stderr) = MorlaifProcess.Run(["export", runId, "--arm", "morlaif", "--out", policy, .. store]);
        Assert.True(exit == 0, stderr);
        int[] ids = [5, 40, 77, 120, 9, 201, 33];
        using (var loaded = HfModelFolder.Load(policy))
        using (no_grad())
        {
            var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            var here = loaded.Forward(input, ones_like(input))[0];
            var reference = tensor(PythonReference.Run(policy, [ids], greedy: 0).Logits[0].SelectMany(r => r).ToArray()).reshape(ids.Length, -1);
            Assert.True(TinyHf.MaxAbsDiff(here, reference) < 1e-4, $"max |diff| {TinyHf.MaxAbsDiff(here, reference)}");
        }
        (exit, stdout, stderr) = MorlaifProcess.Run("generate", "--model", policy, "--prompt", "\n\nHuman: Tell me about tea.\n\nAssistant:", "--max-new-tokens", "4", "--greedy", "--json");
        Assert.True(exit == 0, stderr);

        // A PM: its PEFT SEQ_CLS adapter with the score head, on the run's base; the reference scores as the project does.
        var pm = Path.Combine(files.Root, "pm");
        (exit, _, stderr) = MorlaifProcess.Run(["export", runId, "--pm", "conciseness", "--out", pm, .. store]);
        Assert.True(exit == 0, stderr);
        using (var model = HfModelFolder.Load(files.Model))
        using (var pms = new HfPreferenceModel(model))
        {
            pms.Load("conciseness", pm);
            var here = pms.Score("conciseness", [ids]);
            var reference = PythonReference.Run(files.Model, [ids], greedy: 0, adapter: pm).Scores!;
            Assert.True(Math.Abs(here[0] - reference[0]) < 1e-4, $"score {here[0]} against the reference's {reference[0]}");
        }

        // Bad requests are one line each, and write nothing.
        (exit, _, stderr) = MorlaifProcess.Run(["export", runId, "--arm", "both", "--out", Path.Combine(files.Root, "x"), .. store]);
        GenerateCommandTests.AssertOneLineError(exit, stderr, "option '--arm'", "'both'", "this run's: morlaif, baseline"); // the run's own arms
        (exit, _, stderr) = MorlaifProcess.Run(["export", runId, "--pm", "kindness", "--out", Path.Combine(files.Root, "x"), .. store]);
        GenerateCommandTests.AssertOneLineError(exit, stderr, "no PM 'kindness'");
        Assert.False(Directory.Exists(Path.Combine(files.Root, "x")));
    }
}
