using System.Text.Json;
using Morlaif.Feedback.Judging;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Stages;
using Morlaif.Learning.TextRuns;
using Morlaif.Storage;
using Morlaif.Workers.Labeller;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Text;

/// <summary>
/// A text run's evaluation: both trained policies answer the held-out evaluation prompts (sampled, the same seed for
/// both), the judge compares the answers in both orders with the evaluation question, and the run's report is built
/// from every stage's stored outputs.
/// </summary>
public static class TextEvaluation
{
    public static async Task<TextRunReport> EvaluateAsync(TextStages text, RunArtifacts artifacts, RunManifest m, RunContext ctx,
        Func<double, Dictionary<string, double>> timings, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var run = await text.RunAsync(m, ctx, cancel);
        var data = await text.DataAsync(m, cancel);
        var sftAdapter = await text.SftAdapterAsync(m, cancel);
        using var policyBase = run.LoadSftPolicy(sftAdapter);
        var answers = new Dictionary<string, List<string>>();
        var ppo = new Dictionary<string, IReadOnlyList<PpoIterationStats>>();
        foreach (var arm in RunPlan.Arms)
        {
            var outputs = m.Stages[StageKeys.FinalPpoChunk(ctx.Config.Ppo, arm)].Outputs;
            // One arm's adapter at a time on the shared SFT policy: disposing it takes the adapter off again.
            using (var policy = TextPpoStage.Policy(run, policyBase, await artifacts.BytesAsync(outputs[StageOutputs.Checkpoint], cancel)))
                answers[arm] = TextPpoStage.Answer(run, policy, data.EvaluationPrompts);
            ppo[arm] = PpoStage.StatsFromJson(await artifacts.BytesAsync(outputs[StageOutputs.Stats], cancel));
        }
        var (morlaif, baseline) = (answers[ScalarizationStage.MorlaifArm], answers[ScalarizationStage.BaselineArm]);
        var questions = data.EvaluationPrompts.Select((p, i) => new JudgeQuestion(p, morlaif[i], baseline[i], ChatJudgeLabelling.EvaluationPhrase)).ToList();
        var (labels, _) = await new Feedback.Labeller(ChatJudgeLabelling.Judge(ctx.Config.Judge), new ArtifactJudgeCache(artifacts.Store))
            .JudgeAsync(questions, ctx.Config.Judge.Concurrency, cancel);
        // A verdict needs both orders to agree; a disagreement or an abstention is a tie.
        var outcomes = labels.Select(l => l is null || l.OrdersDisagreed || l.PreferA == 0.5 ? 0 : l.PreferA > 0.5 ? 1 : -1).ToList();
        var evaluateSeconds = clock.Elapsed.TotalSeconds;

        var pairs = await text.PairsAsync(m, cancel);
        var pms = new Dictionary<string, TextPmStats>();
        var disagreed = new Dictionary<string, double>();
        var abstentions = new Dictionary<string, int>();
        foreach (var q in run.Questions)
        {
            var labelSet = await artifacts.LabelsAsync(m, q, cancel);
            (disagreed[q], abstentions[q]) = (labelSet.OrdersDisagreed, labelSet.Abstentions);
            pms[q] = TextPreferenceStage.ReadStats(await text.UnpackAsync(RunArtifacts.Output(m, StageKeys.TrainPm(q), StageOutputs.Model), cancel));
        }
        var sftLosses = sftAdapter is not null && File.Exists(Path.Combine(sftAdapter, TextStages.SftLossesFile))
            ? JsonSerializer.Deserialize<List<double>>(await File.ReadAllTextAsync(Path.Combine(sftAdapter, TextStages.SftLossesFile), cancel))
            : null;
        return new TextRunReport
        {
            RunId = m.RunId,
            Config = ctx.Config,
            Model = Path.GetFileName(ctx.Config.Model.Path!.TrimEnd('/')),
            Parameters = policyBase.parameters().Sum(p => p.numel()),
            TrainPairs = pairs.Train.Count,
            TestPairs = pairs.Test.Count,
            IdenticalPairs = pairs.Identical,
            SftLosses = sftLosses,
            OrdersDisagreed = disagreed,
            Abstentions = abstentions,
            PreferenceModels = pms,
            HumanPairs = data.Human.Count,
            Objective = await artifacts.ObjectiveAsync(m, cancel),
            Ppo = ppo,
            EvaluationPrompts = data.EvaluationPrompts.Count,
            JudgeVsBaseline = TextComparison.Of(outcomes, labels.Count(l => l is null)),
            Samples = [.. data.EvaluationPrompts.Take(6).Select((p, i) => new TextSample(p, morlaif[i], baseline[i], outcomes[i]))],
            TimingsSeconds = timings(evaluateSeconds),
        };
    }
}
