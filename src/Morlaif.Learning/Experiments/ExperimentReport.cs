using System.Text.Json;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Experiments;

/// <summary>Win, tie and loss shares of X against Y, and win minus loss, each with its two-level bootstrap interval; the sign test across seeds.</summary>
public sealed record PairedComparison(string X, string Y, int Seeds, int Prompts, Interval Win, Interval Tie, Interval Loss, Interval Net,
    int SeedsAhead, int SeedsBehind, double SignTestP, double? HolmP = null);

/// <summary>At one label budget: the linear objective's and the single PM's accuracy, their difference, and McNemar's test on the pooled pairs.</summary>
public sealed record BudgetPoint(int Budget, int Seeds, int Pairs, Interval Linear, Interval Single, Interval Difference,
    int OnlyLinearRight, int OnlySingleRight, double McNemarP);

/// <summary>The ablation at one number of principles kept: the mean over random removal orders, then over seeds.</summary>
public sealed record AblationSummary(int Principles, int Seeds, Interval Accuracy);

/// <summary>An arm's PPO over the seeds: how proxy reward and true preference moved, and how many seeds the reward-hacking check flagged.</summary>
public sealed record PpoSummary(string Arm, int Seeds, double MeanProxyChange, double MeanTrueChange, int Flagged, double MeanFinalKl, double MeanFinalApproxKl,
    IReadOnlyList<double> ProxyByIteration, IReadOnlyList<double> TruthByIteration);

/// <summary>
/// An experiment's aggregate over its cells' results (whatever is on disk: a partly run experiment reports what it has,
/// and each figure says on how many seeds it stands). Per-prompt and per-pair outcomes are paired: both sides answered
/// the same prompts, or were scored on the same pairs.
/// </summary>
public sealed record ExperimentReport
{
    public required RunConfig Run { get; init; }
    public required PairedComparison? Finding1 { get; init; }
    public required IReadOnlyList<PairedComparison> Finding2VsBaseline { get; init; }
    /// <summary>Row beats column: the share of prompts won, ties counted half, pooled over seeds and prompts.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Finding2WinRates { get; init; }
    public required IReadOnlyList<BudgetPoint> Finding3 { get; init; }
    public required IReadOnlyList<AblationSummary> Finding4 { get; init; }
    public required IReadOnlyList<PpoSummary> Ppo { get; init; }
    public required int Cells { get; init; }
    public required double ComputeSeconds { get; init; }

    public const int Resamples = 4000;

    public static ExperimentReport Build(ExperimentConfig experiment, RunConfig run, string root)
    {
        var ids = experiment.Cells(run).DistinctBy(c => c.Id).ToList();
        var fits = new Dictionary<string, FitResult>();
        var policies = new Dictionary<(string Cell, string Arm), PolicyResult>();
        foreach (var cell in ids)
        {
            var files = new CellFiles(root, cell);
            if (File.Exists(files.FitPath)) fits[cell.Id] = CellFiles.Read<FitResult>(files.FitPath);
            foreach (var f in Directory.Exists(files.Folder) ? Directory.GetFiles(files.Folder, "policy-*.json") : [])
            {
                var p = CellFiles.Read<PolicyResult>(f);
                policies[(cell.Id, p.Arm)] = p;
            }
        }
        ExperimentCell Main(long seed, int? budget = null) => new(seed, budget ?? run.Pairs.Train, run.Baseline, []);
        var seeds = ids.Select(c => c.Seed).Distinct().Order().ToList();
        PolicyResult? Policy(long seed, string arm) => policies.GetValueOrDefault((Main(seed).Id, arm));

        PairedComparison? Compare(string x, string y, IReadOnlyList<long> over)
        {
            var outcomes = over.Select(s => (x: Policy(s, x), y: Policy(s, y))).Where(p => p.x is not null && p.y is not null)
                .Select(p => p.x!.Truth.Select((t, i) => WinTieLoss.Compare(t, p.y!.Truth[i], run.Evaluation.TieTolerance)).ToList()).ToList();
            return outcomes.Count == 0 ? null : Paired(x, y, outcomes);
        }

        var finding1 = Compare(run.Scalarization, ScalarizationStage.BaselineArm, seeds);

        var scalarizers = experiment.Grids.SelectMany(g => g.Scalarizations ?? []).Distinct().ToList();
        var matrixSeeds = seeds.Where(s => Policy(s, ScalarizationStage.BaselineArm) is not null && scalarizers.All(a => Policy(s, a) is not null)).ToList();
        var vsBaseline = scalarizers.Count < 2 || matrixSeeds.Count == 0 ? [] : scalarizers.Select(a => Compare(a, ScalarizationStage.BaselineArm, matrixSeeds)!).ToList();
        var holm = PairedTests.Holm([.. vsBaseline.Select(c => c.SignTestP)]);
        vsBaseline = [.. vsBaseline.Select((c, i) => c with { HolmP = holm[i] })];
        var winRates = vsBaseline.Count == 0 ? new Dictionary<string, IReadOnlyDictionary<string, double>>()
            : scalarizers.ToDictionary(a => a, a => (IReadOnlyDictionary<string, double>)scalarizers.Where(b => b != a).ToDictionary(b => b, b =>
                matrixSeeds.SelectMany(s => Policy(s, a)!.Truth.Select((t, i) => WinTieLoss.Compare(t, Policy(s, b)!.Truth[i], run.Evaluation.TieTolerance)))
                    .Average(o => o > 0 ? 1.0 : o == 0 ? 0.5 : 0.0)));

        var budgets = experiment.Grids.SelectMany(g => g.Budgets ?? [run.Pairs.Train]).Distinct().Order().ToList();
        var finding3 = budgets.Select(b => Budget(b, seeds.Select(s => fits.GetValueOrDefault(Main(s, b).Id)).OfType<FitResult>().ToList()))
            .OfType<BudgetPoint>().ToList();

        var mainFits = seeds.Select(s => fits.GetValueOrDefault(Main(s).Id)).OfType<FitResult>().ToList();
        var finding4 = mainFits.Count == 0 ? [] : mainFits[0].Ablation.Select(a => a.Principles).Select(k =>
        {
            var perSeed = mainFits.Select(f => f.Ablation.Single(a => a.Principles == k).Accuracy).ToList();
            return new AblationSummary(k, perSeed.Count, HierarchicalBootstrap.Mean([.. perSeed.Select(v => (IReadOnlyList<double>)[v])], Resamples));
        }).ToList();

        var ppo = new[] { ScalarizationStage.BaselineArm, run.Scalarization }.Select(arm =>
        {
            var runs = seeds.Select(s => Policy(s, arm)).OfType<PolicyResult>().Where(p => p.Ppo.Count > 0).ToList();
            var checks = runs.Select(p => RewardHackingCheck.Of(p.Ppo)).OfType<RewardHackingCheck>().ToList();
            return runs.Count == 0 ? null : new PpoSummary(arm, runs.Count, checks.Count == 0 ? double.NaN : checks.Average(c => c.ProxyChange),
                checks.Count == 0 ? double.NaN : checks.Average(c => c.TrueChange), checks.Count(c => c.Flagged),
                runs.Average(p => p.Ppo[^1].MeanKl), runs.Average(p => p.Ppo[^1].ApproxKl),
                [.. Enumerable.Range(0, runs.Min(p => p.Ppo.Count)).Select(i => runs.Average(p => p.Ppo[i].MeanScore))],
                [.. Enumerable.Range(0, runs.Min(p => p.Ppo.Count)).Select(i => runs.Average(p => p.Ppo[i].Truth?.GetValueOrDefault(RewardHackingCheck.TruthKey, double.NaN) ?? double.NaN))]);
        }).OfType<PpoSummary>().ToList();

        return new ExperimentReport
        {
            Run = run,
            Finding1 = finding1,
            Finding2VsBaseline = vsBaseline,
            Finding2WinRates = winRates,
            Finding3 = finding3,
            Finding4 = finding4,
            Ppo = ppo,
            Cells = fits.Count,
            ComputeSeconds = fits.Values.Sum(f => f.Seconds) + policies.Values.Sum(p => p.Seconds),
        };
    }

    /// <summary>X against Y from per-seed, per-prompt outcomes (+1 X wins, 0 tie, -1 Y wins).</summary>
    public static PairedComparison Paired(string x, string y, IReadOnlyList<IReadOnlyList<int>> outcomes)
    {
        Interval Share(Func<int, double> f) => HierarchicalBootstrap.Mean([.. outcomes.Select(s => (IReadOnlyList<double>)[.. s.Select(f)])], Resamples);
        var nets = outcomes.Select(s => s.Average()).ToList();
        int ahead = nets.Count(n => n > 0), behind = nets.Count(n => n < 0);
        return new PairedComparison(x, y, outcomes.Count, outcomes.Sum(s => s.Count), Share(o => o > 0 ? 1 : 0), Share(o => o == 0 ? 1 : 0),
            Share(o => o < 0 ? 1 : 0), Share(o => o), ahead, behind, PairedTests.Sign(ahead, behind));
    }

    /// <summary>The linear objective against the single PM at one budget, from each seed's per-pair correctness.</summary>
    public static BudgetPoint? Budget(int budget, IReadOnlyList<FitResult> fits)
    {
        if (fits.Count == 0) return null;
        IReadOnlyList<IReadOnlyList<double>> Of(Func<char, char, double> f) =>
            [.. fits.Select(r => (IReadOnlyList<double>)[.. r.Correct["linear"].Zip(r.Correct["single"], f)])];
        int onlyLinear = fits.Sum(r => r.Correct["linear"].Zip(r.Correct["single"]).Count(p => p is ('1', '0')));
        int onlySingle = fits.Sum(r => r.Correct["linear"].Zip(r.Correct["single"]).Count(p => p is ('0', '1')));
        return new BudgetPoint(budget, fits.Count, fits.Sum(r => r.Correct["linear"].Length),
            HierarchicalBootstrap.Mean(Of((l, _) => l == '1' ? 1 : 0), Resamples), HierarchicalBootstrap.Mean(Of((_, s) => s == '1' ? 1 : 0), Resamples),
            HierarchicalBootstrap.Mean(Of((l, s) => (l == '1' ? 1 : 0) - (s == '1' ? 1 : 0)), Resamples),
            onlyLinear, onlySingle, PairedTests.McNemar(onlyLinear, onlySingle));
    }

    public static void Write(ExperimentReport report, string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "experiment.json"), JsonSerializer.Serialize(report, RunConfig.Json));
        File.WriteAllText(Path.Combine(root, "experiment.md"), ExperimentMarkdown.Render(report));
    }
}
