using System.Text.Json;
using Morlaif.Learning.Evaluation;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.Statistics;

namespace Morlaif.Learning.Experiments;

/// <summary>
/// Win, tie and loss shares of X against Y, and win minus loss, each with its two-level bootstrap interval; the sign test
/// across seeds; win minus loss with its seed-level t interval (<see cref="SeedLevel"/>), which the verdict follows.
/// </summary>
public sealed record PairedComparison(string X, string Y, int Seeds, int Prompts, Interval Win, Interval Tie, Interval Loss, Interval Net,
    int SeedsAhead, int SeedsBehind, double SignTestP, double? HolmP = null)
{
    /// <summary>Win minus loss, one value per seed (its prompts' mean), with the 95% t interval over seeds.</summary>
    public Interval? NetBySeed { get; init; }

    /// <summary>"ahead", "behind" or "inconclusive" (the seed-level interval holds zero, or there is none).</summary>
    public string Verdict => NetBySeed is { } i ? SeedLevel.Verdict(i) : "inconclusive";
}

/// <summary>
/// At one label budget: the linear objective's and the single PM's accuracy, their difference, and McNemar's test on the
/// pooled pairs; then the same against the control PM (the single PM trained on the human labels too), where measured.
/// </summary>
public sealed record BudgetPoint(int Budget, int Seeds, int Pairs, Interval Linear, Interval Single, Interval Difference,
    int OnlyLinearRight, int OnlySingleRight, double McNemarP, Interval? Control = null, Interval? ControlDifference = null,
    int OnlyLinearRightVsControl = 0, int OnlyControlRight = 0, double? McNemarControlP = null)
{
    /// <summary>Linear minus single PM accuracy, one value per seed, with the 95% t interval over seeds.</summary>
    public Interval? DifferenceBySeed { get; init; }

    /// <summary>Linear minus control PM accuracy, the same way, where measured.</summary>
    public Interval? ControlDifferenceBySeed { get; init; }

    /// <summary>The matched-budget baselines, where every seed measured them: the pooled PM and the ensemble against the linear objective.</summary>
    public IReadOnlyList<BaselineAccuracy> Matched { get; init; } = [];
}

/// <summary>
/// One more baseline's accuracy on the same truth-decided pairs as the linear objective's, and linear minus it: pooled, with
/// McNemar's counts and p, and seed by seed with the t interval.
/// </summary>
public sealed record BaselineAccuracy(string Arm, Interval Accuracy, Interval LinearMinus, Interval? LinearMinusBySeed, int OnlyLinearRight, int OnlyBaselineRight, double McNemarP);

/// <summary>The ablation at one number of principles kept: the mean over random removal orders, then over seeds.</summary>
public sealed record AblationSummary(int Principles, int Seeds, Interval Accuracy);

/// <summary>An arm's PPO over the seeds: how proxy reward and true preference moved, and how many seeds the reward-hacking check flagged.</summary>
public sealed record PpoSummary(string Arm, int Seeds, double MeanProxyChange, double MeanTrueChange, int Flagged, double MeanFinalKl, double MeanFinalApproxKl,
    IReadOnlyList<double> ProxyByIteration, IReadOnlyList<double> TruthByIteration);

/// <summary>
/// One named PPO setting's arm over the seeds it ran on, under one RL algorithm: the proxy reward (the arm's own PM
/// reward, mean of the last five iterations' rollouts), its change from the first five, and the KL to the SFT policy at
/// the end. Never the true preference: settings are chosen on these figures alone. <paramref name="Algorithm"/> is last
/// and PPO by default so that reports written before algorithms were compared (all PPO) read as they were.
/// </summary>
public sealed record PpoSettingsRow(string Settings, string Arm, int Seeds, double FinalProxy, double ProxyChange, double FinalKl, double FinalApproxKl,
    double FinalKlCoef, string Algorithm = RlAlgorithm.Ppo);

/// <summary>
/// One RL algorithm's arm (a policy, under named settings where the grid has them) over the seeds it ran on at one label
/// budget and baseline. Every algorithm of a grid runs the same iterations of the same rollouts per iteration;
/// <paramref name="GeneratedTokens"/> (their responses' tokens, summed over iterations) shows how closely that matches
/// what each generated. <paramref name="Seconds"/>: the arm's PPO (<see cref="PolicyResult.Seconds"/>). Final proxy
/// reward and KL as in <see cref="PpoSettingsRow"/>. The true preference of the arm's evaluation answers, and its
/// difference from the SFT policy's on the same prompts, paired per prompt within each seed. The reward-hacking check
/// (<see cref="RewardHackingCheck"/>): seeds flagged, of those it could judge.
/// </summary>
public sealed record AlgorithmRow(string Algorithm, string Arm, string? Settings, int Budget, string Baseline, int Seeds, double Seconds,
    double GeneratedTokens, double FinalProxy, double FinalKl, Interval TruePreference, Interval VsSft, int Flagged, int Checked)
{
    /// <summary>Where the judge watched the arm: seeds it flagged, and seeds where its verdict agreed with the truth-based check (of <see cref="Watched"/>).</summary>
    public int MonitorFlagged { get; init; }
    public int MonitorAgrees { get; init; }
    public int Watched { get; init; }

    /// <summary>The difference from SFT, one value per seed, with the 95% t interval over seeds.</summary>
    public Interval? VsSftBySeed { get; init; }
}

/// <summary>
/// An experiment's aggregate over its cells' results (whatever is on disk: a partly run experiment reports what it has,
/// and each figure says on how many seeds it stands). Per-prompt and per-pair outcomes are paired: both sides answered
/// the same prompts, or were scored on the same pairs.
/// </summary>
public sealed record ExperimentReport
{
    public required RunConfig Run { get; init; }
    public required PairedComparison? Finding1 { get; init; }
    /// <summary>Finding 1 on the prompts asked with templates no training stage saw.</summary>
    public PairedComparison? Finding1Unseen { get; init; }
    /// <summary>MORLAIF against the control (the baseline given the human labels too), and the control against the baseline.</summary>
    public IReadOnlyList<PairedComparison> Controls { get; init; } = [];
    /// <summary>Each compared arm's true preference along its optimisation path (where the cells evaluated it), with its peak.</summary>
    public IReadOnlyList<ArmPath> Paths { get; init; } = [];
    /// <summary>Finding 1 and the controls at matched KL: each pair of arms read off their paths at each of the experiment's KL levels.</summary>
    public IReadOnlyList<MatchedKlComparison> AtMatchedKl { get; init; } = [];
    public required IReadOnlyList<PairedComparison> Finding2VsBaseline { get; init; }
    /// <summary>MORLAIF's scalarization function against each other one at matched KL, read off their paths as <see cref="AtMatchedKl"/>.</summary>
    public IReadOnlyList<MatchedKlComparison> Finding2AtMatchedKl { get; init; } = [];
    /// <summary>Every two scalarization functions against each other, paired on the same seeds and prompts.</summary>
    public IReadOnlyList<PairedComparison> Finding2Pairs { get; init; } = [];
    /// <summary>Row beats column: the share of prompts won, ties counted half, pooled over seeds and prompts.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Finding2WinRates { get; init; }
    public required IReadOnlyList<BudgetPoint> Finding3 { get; init; }
    public required IReadOnlyList<AblationSummary> Finding4 { get; init; }
    public required IReadOnlyList<PpoSummary> Ppo { get; init; }
    /// <summary>The named PPO settings a grid compared, per arm, and per RL algorithm the one the rule picks (<see cref="ChoosePpoSettings"/>).</summary>
    public IReadOnlyList<PpoSettingsRow> PpoSettings { get; init; } = [];
    public IReadOnlyDictionary<string, string>? PpoSettingsChosen { get; init; }
    /// <summary>The same rule applied to each arm alone (<see cref="ChoosePpoSettingsPerArm"/>): what each policy of the next run is trained with.</summary>
    public IReadOnlyDictionary<string, string>? PpoSettingsChosenPerArm { get; init; }
    /// <summary>The RL algorithms a grid compared (its "algorithms"), per arm: "RL algorithms at a matched number of generated tokens".</summary>
    public IReadOnlyList<AlgorithmRow> Algorithms { get; init; } = [];
    public required int Cells { get; init; }
    public required double ComputeSeconds { get; init; }
    /// <summary>Where the cells were computed (<see cref="FitResult.Machine"/>), each with its number of cells; "unrecorded" for older cells.</summary>
    public IReadOnlyDictionary<string, int> Machines { get; init; } = new Dictionary<string, int>();

    public const int Resamples = 4000;

    public static ExperimentReport Build(ExperimentConfig experiment, RunConfig run, string root)
    {
        var cells = experiment.Cells(run);
        var ids = cells.DistinctBy(c => c.Id).ToList();
        var fits = new Dictionary<string, FitResult>();
        var controls = new Dictionary<string, ControlResult>();
        var policies = new Dictionary<(string Cell, string Arm), PolicyResult>();
        foreach (var cell in ids)
        {
            var files = new CellFiles(root, cell);
            if (File.Exists(files.FitPath)) fits[cell.Id] = CellFiles.Read<FitResult>(files.FitPath);
            if (File.Exists(files.ControlPath)) controls[cell.Id] = CellFiles.Read<ControlResult>(files.ControlPath);
            foreach (var f in Directory.Exists(files.Folder) ? Directory.GetFiles(files.Folder, "policy-*.json") : [])
            {
                var p = CellFiles.Read<PolicyResult>(f);
                policies[(cell.Id, p.Arm)] = p;
            }
        }
        ExperimentCell Main(long seed, int? budget = null) => new(seed, budget ?? run.Pairs.Train, run.Baseline, []);
        var seeds = ids.Select(c => c.Seed).Distinct().Order().ToList();
        PolicyResult? Policy(long seed, string arm) => policies.GetValueOrDefault((Main(seed).Id, arm));

        var tolerance = run.Evaluation.TieTolerance;
        PairedComparison? Compare(string x, string y, IReadOnlyList<long> over, bool unseenOnly = false)
        {
            var outcomes = over.Select(s => (x: Policy(s, x), y: Policy(s, y))).Where(p => p.x is not null && p.y is not null)
                .Select(p => (IReadOnlyList<int[]>)p.x!.Against(p.y!, tolerance, unseenOnly)).Where(o => o.Count > 0).ToList();
            return outcomes.Count == 0 ? null : Paired(x, y, outcomes);
        }

        const string B = ScalarizationStage.BaselineArm;
        var finding1 = Compare(run.Scalarization, B, seeds);
        var finding1Unseen = Compare(run.Scalarization, B, seeds, unseenOnly: true);
        // MORLAIF against each other baseline (the control, the matched budgets), and each of them against the baseline.
        var others = ScalarizationStage.WorldBaselineArms;
        (string X, string Y)[] pairings = [(run.Scalarization, B), .. others.Select(o => (run.Scalarization, o)), .. others.Select(o => (o, B))];
        List<PairedComparison> controlRows = [.. pairings.Skip(1).Select(p => Compare(p.X, p.Y, seeds)).OfType<PairedComparison>()];

        var scalarizers = experiment.Grids.SelectMany(g => g.Scalarizations ?? []).Distinct().ToList();
        var otherScalarizers = scalarizers.Where(a => a != run.Scalarization).ToList();

        // The optimisation path, where the cells evaluated it: each arm against SFT point by point, and the arms against each
        // other at matched KL: finding 1's pairings, and finding 2's (MORLAIF's function against each other one), because
        // the arms end at different KLs and a comparison at the last iteration alone mixes the reward with how far it moved.
        var sftOf = seeds.ToDictionary(s => s, s => Policy(s, EvaluationStage.Sft));
        List<ArmPath> paths = [.. ((string[])[run.Scalarization, B, .. others, .. otherScalarizers]).Select(arm => PathReport.Summarise(arm,
            [.. seeds.Where(s => Policy(s, arm) is not null && sftOf[s] is not null).Select(s => (Policy(s, arm)!, sftOf[s]!))])).OfType<ArmPath>()];
        List<MatchedKlComparison> AtKl(IEnumerable<(string X, string Y)> pairs) => [.. pairs.SelectMany(pair =>
            experiment.KlLevels.Select(kl => PathReport.AtKl(pair.X, pair.Y, kl, [.. seeds
                .Where(s => Policy(s, pair.X) is not null && Policy(s, pair.Y) is not null && sftOf[s] is not null)
                .Select(s => (Policy(s, pair.X)!, Policy(s, pair.Y)!, sftOf[s]!))]))).OfType<MatchedKlComparison>()];
        var atKl = AtKl(pairings);
        var finding2AtKl = AtKl(otherScalarizers.Select(a => (run.Scalarization, a)));

        var matrixSeeds = seeds.Where(s => Policy(s, ScalarizationStage.BaselineArm) is not null && scalarizers.All(a => Policy(s, a) is not null)).ToList();
        var vsBaseline = scalarizers.Count < 2 || matrixSeeds.Count == 0 ? [] : scalarizers.Select(a => Compare(a, ScalarizationStage.BaselineArm, matrixSeeds)!).ToList();
        var holm = PairedTests.Holm([.. vsBaseline.Select(c => c.SignTestP)]);
        vsBaseline = [.. vsBaseline.Select((c, i) => c with { HolmP = holm[i] })];
        List<PairedComparison> pairs = vsBaseline.Count == 0 ? [] :
            [.. scalarizers.SelectMany((a, i) => scalarizers.Skip(i + 1).Select(b => Compare(a, b, matrixSeeds)!))];
        var winRates = vsBaseline.Count == 0 ? new Dictionary<string, IReadOnlyDictionary<string, double>>()
            : scalarizers.ToDictionary(a => a, a => (IReadOnlyDictionary<string, double>)scalarizers.Where(b => b != a).ToDictionary(b => b, b =>
                matrixSeeds.SelectMany(s => Policy(s, a)!.Against(Policy(s, b)!, tolerance).SelectMany(o => o))
                    .Average(o => o > 0 ? 1.0 : o == 0 ? 0.5 : 0.0)));

        var budgets = experiment.Grids.SelectMany(g => g.Budgets ?? [run.Pairs.Train]).Distinct().Order().ToList();
        var finding3 = budgets.Select(b => Budget(b, seeds.Select(s => fits.GetValueOrDefault(Main(s, b).Id)).OfType<FitResult>().ToList(),
            seeds.Select(s => controls.GetValueOrDefault(Main(s, b).Id)).OfType<ControlResult>().ToList())).OfType<BudgetPoint>().ToList();

        var mainFits = seeds.Select(s => fits.GetValueOrDefault(Main(s).Id)).OfType<FitResult>().ToList();
        var finding4 = mainFits.Count == 0 ? [] : mainFits[0].Ablation.Select(a => a.Principles).Select(k =>
        {
            var perSeed = mainFits.Select(f => f.Ablation.Single(a => a.Principles == k).Accuracy).ToList();
            return new AblationSummary(k, perSeed.Count, HierarchicalBootstrap.Mean([.. perSeed.Select(v => (IReadOnlyList<double>)[v])], Resamples));
        }).ToList();

        var ppo = ((string[])[B, .. others, run.Scalarization]).Select(arm =>
        {
            var runs = seeds.Select(s => Policy(s, arm)).OfType<PolicyResult>().Where(p => p.Ppo.Count > 0).ToList();
            var checks = runs.Select(p => RewardHackingCheck.Of(p.Ppo)).OfType<RewardHackingCheck>().ToList();
            return runs.Count == 0 ? null : new PpoSummary(arm, runs.Count, checks.Count == 0 ? double.NaN : checks.Average(c => c.ProxyChange),
                checks.Count == 0 ? double.NaN : checks.Average(c => c.TrueChange), checks.Count(c => c.Flagged),
                runs.Average(p => p.Ppo[^1].MeanKl), runs.Average(p => p.Ppo[^1].ApproxKl),
                [.. Enumerable.Range(0, runs.Min(p => p.Ppo.Count)).Select(i => runs.Average(p => p.Ppo[i].MeanScore))],
                [.. Enumerable.Range(0, runs.Min(p => p.Ppo.Count)).Select(i => runs.Average(p => p.Ppo[i].Truth?.GetValueOrDefault(RewardHackingCheck.TruthKey, double.NaN) ?? double.NaN))]);
        }).OfType<PpoSummary>().ToList();

        // The grids' PPO variants by the suffix of their arms, with the settings they resolve to; a key two grids name is
        // the first one's, as the runner merges them.
        var variants = experiment.Grids.SelectMany((grid, g) => grid.Variants(g)?.Select(v => v.Variant) ?? []).DistinctBy(v => v.Key).ToDictionary(v => v.Key);
        var resolved = cells.SelectMany(c => c.PpoVariants ?? new Dictionary<string, PpoSettings>()).DistinctBy(v => v.Key).ToDictionary();
        var trained = policies.Where(kv => kv.Value.Ppo.Count > 0).Select(kv => (kv.Key.Cell, Result: kv.Value, Arm: ExperimentCell.ParseArm(kv.Value.Arm)))
            .Where(x => x.Arm.Variant is not null && variants.ContainsKey(x.Arm.Variant)).Select(x => (x.Cell, x.Result, x.Arm.Policy, Variant: variants[x.Arm.Variant!]))
            .ToList();

        var settingsRows = trained.Where(x => x.Variant.Settings is not null)
            .GroupBy(x => (Settings: x.Variant.Settings!, resolved[x.Variant.Key].Algorithm, x.Policy)).Select(g =>
            {
                var runs = g.Select(x => x.Result.Ppo).ToList();
                return new PpoSettingsRow(g.Key.Settings, g.Key.Policy, runs.Count, runs.Average(r => Proxy(r, last: true)),
                    runs.Average(r => Proxy(r, last: true) - Proxy(r, last: false)), runs.Average(r => r[^1].MeanKl), runs.Average(r => r[^1].ApproxKl),
                    runs.Average(r => r[^1].KlCoef), g.Key.Algorithm);
            }).OrderBy(r => r.Settings, StringComparer.Ordinal).ThenBy(r => AlgorithmOrder(r.Algorithm)).ThenBy(r => r.Arm, StringComparer.Ordinal).ToList();

        var algorithmRows = trained.Where(x => x.Variant.Algorithm is not null && policies.ContainsKey((x.Cell, EvaluationStage.Sft)))
            .GroupBy(x => (x.Variant, x.Policy, x.Result.Budget, x.Result.Baseline))
            .Select(g => Algorithm(g.Key.Variant.Algorithm!, g.Key.Policy, g.Key.Variant.Settings, resolved[g.Key.Variant.Key].RolloutsPerIteration,
                [.. g.OrderBy(x => x.Result.Seed).Select(x => (x.Result, policies[(x.Cell, EvaluationStage.Sft)]))]))
            .OrderBy(r => r.Budget).ThenBy(r => r.Baseline, StringComparer.Ordinal).ThenBy(r => r.Settings, StringComparer.Ordinal)
            .ThenBy(r => r.Arm, StringComparer.Ordinal).ThenBy(r => AlgorithmOrder(r.Algorithm)).ToList();

        return new ExperimentReport
        {
            PpoSettings = settingsRows,
            PpoSettingsChosen = ChoosePpoSettings(settingsRows, run.Ppo.KlTarget),
            PpoSettingsChosenPerArm = settingsRows.Count == 0 ? null : ChoosePpoSettingsPerArm(settingsRows, run.Ppo.KlTarget),
            Algorithms = algorithmRows,
            Run = run,
            Finding1 = finding1,
            Finding1Unseen = finding1Unseen,
            Controls = controlRows,
            Paths = paths,
            AtMatchedKl = atKl,
            Finding2AtMatchedKl = finding2AtKl,
            Finding2VsBaseline = vsBaseline,
            Finding2Pairs = pairs,
            Finding2WinRates = winRates,
            Finding3 = finding3,
            Finding4 = finding4,
            Ppo = ppo,
            Cells = fits.Count,
            Machines = fits.Values.GroupBy(f => f.Machine ?? "unrecorded").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            ComputeSeconds = fits.Values.Sum(f => f.Seconds) + controls.Values.Sum(c => c.Seconds) + policies.Values.Sum(p => p.Seconds),
        };
    }

    /// <summary>
    /// The rule that picks PPO settings, fixed before they ran, applied within each RL algorithm (one choice per
    /// algorithm, each to be used with it): among the settings whose every arm ends with a KL to the SFT policy within
    /// the KL target, the best mean rank of final proxy reward across the arms (proxy rewards of different arms are on
    /// different scales, ranks are not). Ties go to the name first in ordinal order. An algorithm none of whose
    /// settings stays within the target has no entry.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ChoosePpoSettings(IReadOnlyList<PpoSettingsRow> rows, double klTarget) =>
        rows.GroupBy(r => r.Algorithm).OrderBy(g => AlgorithmOrder(g.Key)).Select(g => (Algorithm: g.Key, Chosen: Choose([.. g], klTarget)))
            .Where(x => x.Chosen is not null).ToDictionary(x => x.Algorithm, x => x.Chosen!);

    private static string? Choose(IReadOnlyList<PpoSettingsRow> rows, double klTarget)
    {
        var eligible = rows.GroupBy(r => r.Settings).Where(g => g.All(r => r.FinalKl <= klTarget)).Select(g => g.Key).ToHashSet();
        return rows.Where(r => eligible.Contains(r.Settings)).GroupBy(r => r.Arm)
            .SelectMany(arm => arm.OrderByDescending(r => r.FinalProxy).Select((r, rank) => (r.Settings, rank)))
            .GroupBy(x => x.Settings).OrderBy(g => g.Average(x => x.rank)).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).FirstOrDefault();
    }

    /// <summary>
    /// The rule of <see cref="ChoosePpoSettings"/> for each arm alone (TUNING.md): among the settings under which the arm ends
    /// within the KL target, the best final proxy reward, ties to the name first in ordinal order. An arm none of whose
    /// settings ends within the target takes the one that comes closest, the lowest final KL (<see cref="OutsideKlTarget"/>
    /// names them). Keyed by arm, with the algorithm after it in parentheses where it is not PPO.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ChoosePpoSettingsPerArm(IReadOnlyList<PpoSettingsRow> rows, double klTarget) =>
        rows.GroupBy(r => (r.Algorithm, r.Arm)).OrderBy(g => AlgorithmOrder(g.Key.Algorithm)).ThenBy(g => g.Key.Arm, StringComparer.Ordinal)
            .ToDictionary(g => ArmKey(g.Key.Algorithm, g.Key.Arm),
                g => Choose([.. g], klTarget) ?? g.OrderBy(r => r.FinalKl).ThenBy(r => r.Settings, StringComparer.Ordinal).First().Settings);

    /// <summary>The arms (keyed as <see cref="ChoosePpoSettingsPerArm"/> keys them) none of whose settings ends within the KL target.</summary>
    public static IReadOnlyList<string> OutsideKlTarget(IReadOnlyList<PpoSettingsRow> rows, double klTarget) =>
        [.. rows.GroupBy(r => (r.Algorithm, r.Arm)).Where(g => g.All(r => r.FinalKl > klTarget)).Select(g => ArmKey(g.Key.Algorithm, g.Key.Arm)).Order(StringComparer.Ordinal)];

    private static string ArmKey(string algorithm, string arm) => algorithm == RlAlgorithm.Ppo ? arm : $"{arm} ({algorithm})";

    /// <summary>ppo, grpo, rloo: the order <see cref="RlAlgorithm.All"/> lists them in.</summary>
    private static int AlgorithmOrder(string algorithm) => Array.IndexOf(RlAlgorithm.All, algorithm);

    /// <summary>The proxy reward at the end (the last five iterations' rollouts) or the start (the first five).</summary>
    private static double Proxy(IReadOnlyList<PpoIterationStats> ppo, bool last) => (last ? ppo.TakeLast(5) : ppo.Take(5)).Average(i => i.MeanScore);

    /// <summary>
    /// One algorithm's arm from each seed's result and the SFT policy's of the same cell (the same evaluation prompts and
    /// samples). A prompt's samples count once, as their mean, and the bootstrap resamples seeds, then prompts.
    /// </summary>
    public static AlgorithmRow Algorithm(string algorithm, string arm, string? settings, int rolloutsPerIteration,
        IReadOnlyList<(PolicyResult Policy, PolicyResult Sft)> seeds)
    {
        var checks = seeds.Select(s => RewardHackingCheck.Of(s.Policy.Ppo)).OfType<RewardHackingCheck>().ToList();
        var monitors = seeds.Select(s => Runs.ArmMonitor.Of(s.Policy.Ppo)).OfType<Runs.ArmMonitor>().ToList();
        return new AlgorithmRow(algorithm, arm, settings, seeds[0].Policy.Budget, seeds[0].Policy.Baseline, seeds.Count, seeds.Average(s => s.Policy.Seconds),
            seeds.Average(s => s.Policy.Ppo.Sum(i => rolloutsPerIteration * i.MeanResponseTokens)), seeds.Average(s => Proxy(s.Policy.Ppo, last: true)),
            seeds.Average(s => s.Policy.Ppo[^1].MeanKl),
            HierarchicalBootstrap.Mean([.. seeds.Select(s => s.Policy.PerPrompt())], Resamples),
            HierarchicalBootstrap.Mean([.. seeds.Select(s => s.Policy.PerPrompt(i => s.Policy.Truth[i] - s.Sft.Truth[i]))], Resamples),
            checks.Count(c => c.Flagged), checks.Count)
        {
            MonitorFlagged = monitors.Count(m => m.Flagged), MonitorAgrees = monitors.Count(m => m.AgreesWithTruth == true), Watched = monitors.Count,
            VsSftBySeed = SeedLevel.T([.. seeds.Select(s => s.Policy.PerPrompt(i => s.Policy.Truth[i] - s.Sft.Truth[i]).Average())]),
        };
    }

    /// <summary>
    /// X against Y from per-seed, per-prompt outcomes, one per sample (+1 X wins, 0 tie, -1 Y wins). A prompt's samples
    /// are not independent (one prompt, two policies), so each prompt counts once, as the mean over its samples, and the
    /// bootstrap resamples prompts within seeds.
    /// </summary>
    public static PairedComparison Paired(string x, string y, IReadOnlyList<IReadOnlyList<int[]>> outcomes)
    {
        Interval Share(Func<int, double> f) =>
            HierarchicalBootstrap.Mean([.. outcomes.Select(s => (IReadOnlyList<double>)[.. s.Select(samples => samples.Average(f))])], Resamples);
        var nets = outcomes.Select(s => s.Average(samples => samples.Average())).ToList();
        int ahead = nets.Count(n => n > 0), behind = nets.Count(n => n < 0);
        return new PairedComparison(x, y, outcomes.Count, outcomes.Sum(s => s.Count), Share(o => o > 0 ? 1 : 0), Share(o => o == 0 ? 1 : 0),
            Share(o => o < 0 ? 1 : 0), Share(o => o), ahead, behind, PairedTests.Sign(ahead, behind)) { NetBySeed = SeedLevel.T(nets) };
    }

    /// <summary>
    /// The linear objective against the single PM at one budget, from each seed's per-pair correctness; and against the
    /// control PM when every seed has one (<paramref name="controls"/> in the order of <paramref name="fits"/>).
    /// </summary>
    public static BudgetPoint? Budget(int budget, IReadOnlyList<FitResult> fits, IReadOnlyList<ControlResult>? controls = null)
    {
        if (fits.Count == 0) return null;
        var linear = fits.Select(f => f.Correct["linear"]).ToList();
        var (single, onlyLinear, onlySingle, singleP) = Versus(linear, [.. fits.Select(f => f.Correct["single"])]);
        var point = new BudgetPoint(budget, fits.Count, linear.Sum(l => l.Length), Accuracy(linear), Accuracy([.. fits.Select(f => f.Correct["single"])]),
            single, onlyLinear, onlySingle, singleP) { DifferenceBySeed = BySeed(linear, [.. fits.Select(f => f.Correct["single"])]) };
        point = point with
        {
            Matched =
            [
                .. new[] { ScalarizationStage.PooledArm, ScalarizationStage.EnsembleArm }.Where(arm => fits.All(f => f.Correct.ContainsKey(arm))).Select(arm =>
                {
                    List<string> other = [.. fits.Select(f => f.Correct[arm])];
                    var (difference, onlyLinearM, onlyOther, p) = Versus(linear, other);
                    return new BaselineAccuracy(arm, Accuracy(other), difference, BySeed(linear, other), onlyLinearM, onlyOther, p);
                }),
            ],
        };
        if (controls is null || controls.Count != fits.Count) return point;
        var (control, onlyLinearC, onlyControl, controlP) = Versus(linear, [.. controls.Select(c => c.Correct)]);
        return point with { Control = Accuracy([.. controls.Select(c => c.Correct)]), ControlDifference = control,
            OnlyLinearRightVsControl = onlyLinearC, OnlyControlRight = onlyControl, McNemarControlP = controlP,
            ControlDifferenceBySeed = BySeed(linear, [.. controls.Select(c => c.Correct)]) };
    }

    private static double Bit(char c) => c == '1' ? 1 : 0;

    /// <summary>X's accuracy minus Y's seed by seed, with the t interval over seeds.</summary>
    private static Interval BySeed(IReadOnlyList<string> x, IReadOnlyList<string> y) =>
        SeedLevel.T([.. x.Zip(y, (a, b) => a.Count(c => c == '1') / (double)a.Length - b.Count(c => c == '1') / (double)b.Length)]);

    private static Interval Accuracy(IReadOnlyList<string> correct) =>
        HierarchicalBootstrap.Mean([.. correct.Select(r => (IReadOnlyList<double>)[.. r.Select(Bit)])], Resamples);

    /// <summary>X's accuracy minus Y's on the same pairs, with McNemar's counts and p (seed by seed, pooled).</summary>
    private static (Interval Difference, int OnlyX, int OnlyY, double P) Versus(IReadOnlyList<string> x, IReadOnlyList<string> y)
    {
        int onlyX = x.Zip(y).Sum(p => p.First.Zip(p.Second).Count(b => b is ('1', '0')));
        int onlyY = x.Zip(y).Sum(p => p.First.Zip(p.Second).Count(b => b is ('0', '1')));
        var difference = HierarchicalBootstrap.Mean([.. x.Zip(y).Select(p => (IReadOnlyList<double>)[.. p.First.Zip(p.Second, (a, b) => Bit(a) - Bit(b))])], Resamples);
        return (difference, onlyX, onlyY, PairedTests.McNemar(onlyX, onlyY));
    }

    public static void Write(ExperimentReport report, string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "experiment.json"), JsonSerializer.Serialize(report, RunConfig.Json));
        File.WriteAllText(Path.Combine(root, "experiment.md"), ExperimentMarkdown.Render(report));
    }
}
