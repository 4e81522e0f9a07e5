using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Runs;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Experiments;

/// <summary>
/// A grid of world runs: one run config (its defaults, or a file) varied by seed, label budget (pairs.train),
/// scalarization function and baseline, and the policies' PPO settings and RL algorithm. Several grids may share runs:
/// a cell is its (seed, budget, baseline) and the policies asked of it, wherever it is named.
/// </summary>
public sealed record ExperimentConfig
{
    /// <summary>The run config the grids vary, relative to the experiment file; absent: the built-in defaults.</summary>
    public string? Run { get; init; }
    public GridConfig[] Grids { get; init; } = [];
    /// <summary>
    /// The KLs from the SFT policy at which the report compares the arms along their paths (where the run config asks for
    /// evaluation.path): the comparison at matched KL, not only at the last iteration.
    /// </summary>
    public double[] KlLevels { get; init; } = [1, 2, 4, 6];

    public sealed record GridConfig
    {
        public string Name { get; init; } = "";
        public long[] Seeds { get; init; } = [1];
        /// <summary>pairs.train values; absent: the run config's.</summary>
        public int[]? Budgets { get; init; }
        /// <summary>Scalarization functions of the MORLAIF arm; absent: the run config's.</summary>
        public string[]? Scalarizations { get; init; }
        /// <summary>Baselines; absent: the run config's.</summary>
        public string[]? Baselines { get; init; }
        /// <summary>
        /// The baseline policies trained beside MORLAIF's: "baseline", "baseline-human" (the control), "baseline-pooled" and
        /// "baseline-ensemble" (the matched budgets, whose PMs any grid naming them trains and measures, policies or not).
        /// Absent: the baseline and the control, or the baseline alone where the grid compares PPO settings or algorithms.
        /// </summary>
        public string[]? BaselineArms { get; init; }
        /// <summary>false: stop at the objective fit (PMs, weights, accuracies, ablation), without PPO or evaluation.</summary>
        public bool Policies { get; init; } = true;
        /// <summary>
        /// Named PPO settings to compare (each overrides some of the run config's "ppo" fields): the baseline and each
        /// scalarization are trained under every one, as arms ARM@NAME, and the report ranks them by proxy reward and KL
        /// alone, within each algorithm. Absent: the run config's settings.
        /// </summary>
        public Dictionary<string, JsonObject>? Ppo { get; init; }
        /// <summary>
        /// RL algorithms (ppo.algorithm) to compare at the same rollout budget, crossed with <see cref="Ppo"/>'s settings:
        /// arms ARM@ALGORITHM, or ARM@NAME-ALGORITHM with named settings. Absent: the run config's algorithm.
        /// </summary>
        public string[]? Algorithms { get; init; }
        /// <summary>
        /// Each policy's own PPO settings (a scalarization or a baseline arm: overrides of the run config's "ppo"), as a tuning
        /// run chose them per arm (<see cref="ExperimentReport.ChoosePpoSettingsPerArm"/>); a policy not named keeps the run's.
        /// </summary>
        public Dictionary<string, JsonObject>? ArmPpo { get; init; }

        /// <summary>
        /// The PPO settings grid <paramref name="g"/> trains every policy under, each with the overrides laid over the run
        /// config's "ppo" and the field a failure names; null when the grid names neither settings nor algorithms.
        /// </summary>
        public List<(PpoVariant Variant, JsonObject Overrides, string Field)>? Variants(int g)
        {
            if (Ppo is null && Algorithms is null) return null;
            // The named settings; when the grid varies only the algorithm, the run config's own (no name, no overrides).
            List<(string? Name, JsonObject Overrides, string Field)> named = Ppo is null ? [(null, [], "")]
                : [.. Ppo.Select(v => ((string?)v.Key, v.Value, $"field 'grids[{g}].ppo.{v.Key}'"))];
            if (Algorithms is null) return [.. named.Select(n => (new PpoVariant(n.Name!, n.Name, null), n.Overrides, n.Field))];
            return
            [
                .. from n in named
                from a in Algorithms.Select((name, i) => (Name: name, Field: $"'grids[{g}].algorithms[{i}]'"))
                select (new PpoVariant(n.Name is null ? a.Name : $"{n.Name}-{a.Name}", n.Name, a.Name), WithAlgorithm(n.Overrides, a.Name),
                    n.Name is null ? $"field {a.Field}" : $"{n.Field} as {a.Field}"),
            ];
        }

        private static JsonObject WithAlgorithm(JsonObject overrides, string algorithm)
        {
            var merged = (JsonObject)overrides.DeepClone();
            merged["algorithm"] = algorithm;
            return merged;
        }
    }

    /// <summary>
    /// One PPO setting a grid trains every policy under, as arms POLICY@KEY: a named setting of its "ppo"
    /// (<paramref name="Settings"/>), an algorithm of its "algorithms", or both (KEY = NAME-ALGORITHM).
    /// </summary>
    public sealed record PpoVariant(string Key, string? Settings, string? Algorithm);

    /// <summary>Reads and validates an experiment file and its run config; every failure is one <see cref="ConfigException"/> naming file and field.</summary>
    public static (ExperimentConfig Experiment, RunConfig Run) Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"experiment file '{path}': cannot be read ({e.Message})");
        }
        ExperimentConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ExperimentConfig>(text, RunConfig.Json) ?? throw new ConfigException($"{path}: is empty");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{path}: {(e.Path is { } p ? $"field '{p.TrimStart('$', '.')}': " : "")}{e.Message.Split(". Path:")[0]}");
        }
        var run = config.Run is null ? new RunConfig() : RunConfig.Load(Path.GetFullPath(config.Run, Path.GetDirectoryName(Path.GetFullPath(path))!));
        if (run.Task != RunConfig.WorldTask) throw new ConfigException($"{path}: field 'run': experiments run the synthetic world (its truth is what they measure against)");
        config.Validate(path);
        config.Cells(run, path);
        return (config, run);
    }

    public void Validate(string path)
    {
        void Fail(string field, string message) => throw new ConfigException($"{path}: field '{field}': {message}");
        if (Grids.Length == 0) Fail("grids", "must list at least one grid");
        foreach (var (k, i) in KlLevels.Select((k, i) => (k, i)))
            if (!(k > 0) || double.IsInfinity(k)) Fail($"klLevels[{i}]", $"must be a positive KL (got {k})");
        for (var g = 0; g < Grids.Length; g++)
        {
            var grid = Grids[g];
            if (grid.Seeds.Length == 0) Fail($"grids[{g}].seeds", "must list at least one seed");
            if (grid.Seeds.Distinct().Count() != grid.Seeds.Length) Fail($"grids[{g}].seeds", "lists a seed twice");
            foreach (var (b, i) in (grid.Budgets ?? []).Select((b, i) => (b, i)))
                if (b < 1) Fail($"grids[{g}].budgets[{i}]", $"must be positive (got {b})");
            foreach (var (s, i) in (grid.Scalarizations ?? []).Select((s, i) => (s, i)))
                if (Scalarizers.Find(s) is null) Fail($"grids[{g}].scalarizations[{i}]", $"unknown scalarization function '{s}' (known: {string.Join(", ", Scalarizers.Names)})");
            foreach (var (s, i) in (grid.Baselines ?? []).Select((s, i) => (s, i)))
                if (s is not (Constitution.Question or Principle.Overall)) Fail($"grids[{g}].baselines[{i}]", $"unknown baseline '{s}' (known: {Constitution.Question}, {Principle.Overall})");
            string[] baselineArms = [Stages.ScalarizationStage.BaselineArm, .. Stages.ScalarizationStage.WorldBaselineArms];
            foreach (var (a, i) in (grid.BaselineArms ?? []).Select((a, i) => (a, i)))
            {
                if (!baselineArms.Contains(a)) Fail($"grids[{g}].baselineArms[{i}]", $"unknown baseline arm '{a}' (known: {string.Join(", ", baselineArms)})");
                if (Array.IndexOf(grid.BaselineArms!, a) != i) Fail($"grids[{g}].baselineArms[{i}]", $"lists '{a}' twice");
            }
            // The evaluation compares MORLAIF with the baseline: every policy cell trains it.
            if (grid.BaselineArms is { } named && grid.Policies && !named.Contains(Stages.ScalarizationStage.BaselineArm))
                Fail($"grids[{g}].baselineArms", $"must list '{Stages.ScalarizationStage.BaselineArm}' (the evaluation compares MORLAIF with it)");
            foreach (var policy in (grid.ArmPpo ?? []).Keys)
            {
                if (grid.Ppo is not null || grid.Algorithms is not null)
                    Fail($"grids[{g}].armPpo", "cannot be combined with the grid's \"ppo\" or \"algorithms\" (each policy is trained once, under its own settings)");
                if (!baselineArms.Contains(policy) && Scalarizers.Find(policy) is null)
                    Fail($"grids[{g}].armPpo.{policy}", $"is neither a scalarization function nor a baseline arm (known: {string.Join(", ", [.. Scalarizers.Names, .. baselineArms])})");
                if (grid.ArmPpo![policy].ContainsKey("algorithm")) Fail($"grids[{g}].armPpo.{policy}.algorithm", "is not tuned per arm: set it in the run config");
            }
            if (grid.Algorithms is not { } algorithms) continue;
            if (algorithms.Length == 0) Fail($"grids[{g}].algorithms", "must list at least one algorithm (or be left out: the run config's)");
            for (var i = 0; i < algorithms.Length; i++)
            {
                if (!RlAlgorithm.All.Contains(algorithms[i]))
                    Fail($"grids[{g}].algorithms[{i}]", $"unknown algorithm '{algorithms[i]}' (known: {string.Join(", ", RlAlgorithm.All)})");
                if (Array.IndexOf(algorithms, algorithms[i]) != i) Fail($"grids[{g}].algorithms[{i}]", $"lists '{algorithms[i]}' twice");
            }
            // Each named setting runs under every listed algorithm: one of its own would be overridden unseen.
            foreach (var (name, overrides) in grid.Ppo ?? [])
                if (overrides.ContainsKey("algorithm")) Fail($"grids[{g}].ppo.{name}.algorithm", $"is set by grids[{g}].algorithms: list the algorithms there");
        }
    }

    /// <summary>
    /// The cells grid after grid, each with that grid's policies. A cell named by several grids (the same seed, budget and
    /// baseline) is one folder and one pipeline run, which trains every policy any of them asks.
    /// </summary>
    public IReadOnlyList<ExperimentCell> Cells(RunConfig run, string source = "experiment") =>
    [
        .. Grids.SelectMany((grid, g) =>
        {
            var variants = grid.Variants(g)?.ToDictionary(v => v.Variant.Key, v => Variant(run, v.Overrides, $"{source}: {v.Field}"));
            var armPpo = grid.ArmPpo?.ToDictionary(kv => kv.Key, kv => Variant(run, kv.Value, $"{source}: field 'grids[{g}].armPpo.{kv.Key}'"));
            return from seed in grid.Seeds
                from budget in grid.Budgets ?? [run.Pairs.Train]
                from baseline in grid.Baselines ?? [run.Baseline]
                select new ExperimentCell(seed, budget, baseline, grid.Policies ? [.. grid.Scalarizations ?? [run.Scalarization]] : [], variants)
                {
                    BaselineArms = grid.BaselineArms ?? (variants is null ? DefaultBaselineArms : [Stages.ScalarizationStage.BaselineArm]),
                    ArmPpo = armPpo,
                };
        }),
    ];

    private static readonly string[] DefaultBaselineArms = [Stages.ScalarizationStage.BaselineArm, Stages.ScalarizationStage.ControlArm];

    /// <summary>The run's PPO settings with <paramref name="overrides"/> laid over them, validated as a run config's would be.</summary>
    private static PpoSettings Variant(RunConfig run, JsonObject overrides, string where)
    {
        var merged = JsonSerializer.SerializeToNode(run.Ppo, RunConfig.Json)!.AsObject();
        foreach (var (key, value) in overrides) merged[key] = value?.DeepClone();
        try
        {
            var settings = merged.Deserialize<PpoSettings>(RunConfig.Json)!;
            (run with { Ppo = settings }).Validate(where);
            return settings;
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{where}: {e.Message.Split(". Path:")[0]}");
        }
    }
}

/// <summary>
/// One (seed, label budget, baseline): SFT, pairs, labels, PMs, the objective fit, the control PM and, where a grid asks for
/// them, the matched-budget PMs; then, when any scalarization is asked, the SFT policy, each baseline arm's and one MORLAIF
/// policy per scalarization, all evaluated on the same prompts.
/// </summary>
public sealed record ExperimentCell(long Seed, int Budget, string Baseline, IReadOnlyList<string> Scalarizations,
    IReadOnlyDictionary<string, PpoSettings>? PpoVariants = null)
{
    public string Id => $"s{Seed}-b{Budget}-{Baseline}";

    public bool HasPolicies => Scalarizations.Count > 0;

    /// <summary>The baseline policies trained beside MORLAIF's (<see cref="ExperimentConfig.GridConfig.BaselineArms"/>), in that order.</summary>
    public IReadOnlyList<string> BaselineArms { get; init; } = [Stages.ScalarizationStage.BaselineArm, Stages.ScalarizationStage.ControlArm];

    /// <summary>Each policy's own PPO settings (<see cref="ExperimentConfig.GridConfig.ArmPpo"/>), where a grid sets them.</summary>
    public IReadOnlyDictionary<string, PpoSettings>? ArmPpo { get; init; }

    /// <summary>Whether the cell trains the matched-budget PMs: a grid asks for a policy on them.</summary>
    public bool MatchedBudget => BaselineArms.Any(a => a is Stages.ScalarizationStage.PooledArm or Stages.ScalarizationStage.EnsembleArm);

    /// <summary>The policies the cell evaluates: the SFT policy, each baseline arm's, and MORLAIF's under each scalarization (under each PPO variant where it has them).</summary>
    public IReadOnlyList<string> Arms => !HasPolicies ? []
        : PpoVariants is null ? [Stages.EvaluationStage.Sft, .. BaselineArms, .. Scalarizations]
        : [Stages.EvaluationStage.Sft, .. PpoVariants.Keys.SelectMany(v => BaselineArms.Concat(Scalarizations).Select(a => $"{a}@{v}"))];

    /// <summary>An arm's policy (sft, baseline, baseline-human or a scalarization) and its PPO settings' name, if any.</summary>
    public static (string Policy, string? Variant) ParseArm(string arm) => arm.Split('@') is [var policy, var variant] ? (policy, variant) : (arm, null);

    /// <summary>
    /// The cell as one pipeline run: the grid's run config with the cell's seed, budget and baseline, the control PM, the
    /// matched-budget PMs where asked, and one PPO arm per policy but SFT (none when the grid stops at the objective fit).
    /// </summary>
    public RunConfig PipelineConfig(RunConfig run) => Config(run) with
    {
        ControlPm = true,
        MatchedBudget = MatchedBudget,
        Arms =
        [
            .. Arms.Where(a => a != Stages.EvaluationStage.Sft).Select(arm =>
            {
                var (policy, variant) = ParseArm(arm);
                var morlaif = !BaselineArms.Contains(policy);
                return new RunConfig.ArmConfig
                {
                    Name = arm, Reward = morlaif ? Stages.ScalarizationStage.MorlaifArm : policy, Scalarization = morlaif ? policy : null,
                    Ppo = variant is null ? ArmPpo?.GetValueOrDefault(policy) : PpoVariants![variant],
                };
            }),
        ],
    };

    public RunConfig Config(RunConfig run) =>
        run.WithSeed(Seed) with { Pairs = run.Pairs with { Train = Budget }, Baseline = Baseline };
}
