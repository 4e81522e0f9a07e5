using System.Text.Json;
using System.Text.Json.Serialization;
using Morlaif.Learning.Ppo;
using Morlaif.Learning.Scalarization;
using Morlaif.Learning.World;

namespace Morlaif.Learning.Runs;

/// <summary>
/// Everything a run needs, with the built-in defaults sized for two CPU cores (a few minutes end to end).
/// Loaded from JSON (camelCase, comments allowed, unknown fields rejected) and validated before any work.
/// </summary>
public sealed record RunConfig
{
    public const string WorldTask = "world", TextTask = "text";

    /// <summary>"world" (the synthetic world, the default) or "text" (a user's Hugging Face model, prompts and chat judge).</summary>
    public string Task { get; init; } = WorldTask;
    public long Seed { get; init; } = 1;
    public string[] Principles { get; init; } = GroundTruth.Principles.Select(p => p.Name).ToArray();
    public string Scalarization { get; init; } = "linear";
    /// <summary>
    /// The single-objective baseline: "constitution" (the paper's: one of 16 general Constitutional-AI principles drawn
    /// per pair, one PM on all those labels) or "overall" (one PM on the judge's overall question; in the world that is
    /// the true preference plus judge noise, an oracle-aligned judge: an upper bound, not the paper's baseline).
    /// </summary>
    public string Baseline { get; init; } = Constitution.Question;
    /// <summary>The text task's input files (paths relative to the config file).</summary>
    public DataConfig Data { get; init; } = new();
    public JudgeConfig Judge { get; init; } = new();
    public ModelConfig Model { get; init; } = new();
    public SftConfig Sft { get; init; } = new();
    public PairsConfig Pairs { get; init; } = new();
    public PreferenceModelConfig PreferenceModel { get; init; } = new();
    public PpoSettings Ppo { get; init; } = new();
    /// <summary>
    /// The policies PPO trains, each on its own reward; absent: "morlaif" (the principle PMs under
    /// <see cref="Scalarization"/>) and "baseline" (the single PM). More arms compare scalarizations or PPO settings
    /// on the same PMs; none stops the run after the objective fit (no PPO, no evaluation).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ArmConfig[]? Arms { get; init; }
    /// <summary>
    /// World: also train the control PM (the baseline's question on its AI labels plus the simulated human labels) and
    /// measure it beside the objectives; an arm rewarded by it (<see cref="Stages.ScalarizationStage.ControlArm"/>) implies it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ControlPm { get; init; }
    /// <summary>
    /// World: also match the baseline's label budget to MORLAIF's: judge each pair on as many drawn constitution principles
    /// as MORLAIF has principles, and train a PM per draw (their mean is <see cref="Stages.ScalarizationStage.EnsembleArm"/>'s
    /// reward) and one PM on all the draws' labels (<see cref="Stages.ScalarizationStage.PooledArm"/>'s); an arm rewarded
    /// by either implies it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool MatchedBudget { get; init; }
    public EvaluationConfig Evaluation { get; init; } = new();

    /// <summary>One policy PPO trains: its name (a record key), its reward, and what it sets apart from the run's settings.</summary>
    public sealed record ArmConfig
    {
        public string Name { get; init; } = "";
        /// <summary>
        /// "morlaif" (the principle PMs, scalarized), "baseline" (the single PM), or, world only, "baseline-human" (the control
        /// PM), "baseline-pooled" (one PM on the matched budget's labels) or "baseline-ensemble" (the mean of its draws' PMs).
        /// </summary>
        public string Reward { get; init; } = Stages.ScalarizationStage.MorlaifArm;
        /// <summary>The morlaif reward's scalarization function; absent: the run's.</summary>
        public string? Scalarization { get; init; }
        /// <summary>The arm's PPO settings, whole; absent: the run's.</summary>
        public PpoSettings? Ppo { get; init; }
    }

    private static readonly ArmConfig[] DefaultArms =
    [
        new() { Name = Stages.ScalarizationStage.MorlaifArm, Reward = Stages.ScalarizationStage.MorlaifArm },
        new() { Name = Stages.ScalarizationStage.BaselineArm, Reward = Stages.ScalarizationStage.BaselineArm },
    ];

    /// <summary>The arms PPO trains, in order: the configured ones, else MORLAIF and the baseline.</summary>
    [JsonIgnore]
    public IReadOnlyList<ArmConfig> PolicyArms => Arms ?? DefaultArms;

    /// <summary>The arm called <paramref name="name"/>; ArgumentException naming the known ones when there is none.</summary>
    public ArmConfig Arm(string name) => PolicyArms.FirstOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown arm '{name}' (this run's: {string.Join(", ", PolicyArms.Select(a => a.Name))})");

    /// <summary>The config an arm trains under: the run's, with the arm's scalarization and PPO settings.</summary>
    public RunConfig ForArm(ArmConfig arm) => this with { Scalarization = arm.Scalarization ?? Scalarization, Ppo = arm.Ppo ?? Ppo };

    /// <summary>The arms the evaluation compares: the first MORLAIF-rewarded and the first baseline-rewarded; null without arms.</summary>
    [JsonIgnore]
    public (ArmConfig Morlaif, ArmConfig Baseline)? ComparedArms => PolicyArms.Count == 0 ? null
        : (PolicyArms.First(a => a.Reward == Stages.ScalarizationStage.MorlaifArm), PolicyArms.First(a => a.Reward == Stages.ScalarizationStage.BaselineArm));

    /// <summary>Whether the run trains the control PM.</summary>
    [JsonIgnore]
    public bool TrainsControlPm => ControlPm || PolicyArms.Any(a => a.Reward == Stages.ScalarizationStage.ControlArm);

    /// <summary>Whether the run trains the matched-budget PMs (<see cref="MatchedBudget"/>).</summary>
    [JsonIgnore]
    public bool TrainsMatchedPms => MatchedBudget || PolicyArms.Any(a => a.Reward is Stages.ScalarizationStage.PooledArm or Stages.ScalarizationStage.EnsembleArm);

    public sealed record JudgeConfig
    {
        /// <summary>"synthetic" (the world's own judge) or "openai" (any OpenAI-compatible endpoint labels the pairs' text).</summary>
        public string Kind { get; init; } = "synthetic";
        public string? Endpoint { get; init; }
        public string? Model { get; init; }
        /// <summary>The environment variable that holds the API key (read by the labeller worker; never stored).</summary>
        public string? ApiKeyEnv { get; init; }
        public int Concurrency { get; init; } = 8;
        public double Sharpness { get; init; } = 1.5;
        public double PositionBias { get; init; } = 0.5;
        public double NoiseSd { get; init; } = 1.0;
    }

    public sealed record DataConfig
    {
        /// <summary>HH-RLHF JSONL (the prompt is the conversation up to the last "\n\nAssistant:") or a TRL prompt file.</summary>
        public string? Prompts { get; init; }
        /// <summary>HH-RLHF-format chosen/rejected pairs: the principle weights are fitted on them.</summary>
        public string? Human { get; init; }
        /// <summary>Optional TRL SFT data the base is fine-tuned on first.</summary>
        public string? Sft { get; init; }
    }

    public sealed record LoraConfig
    {
        public int Rank { get; init; } = 8;
        public double Alpha { get; init; } = 32;
        /// <summary>
        /// The PMs' adapters on the top this many layers of the PM base only (PEFT's layers_to_transform), null for every
        /// layer: scoring N principles then runs the frozen layers below once and only these N times.
        /// </summary>
        public int? PmTopLayers { get; init; }
    }

    public sealed record ModelConfig
    {
        /// <summary>Text task: the policy's base, a Hugging Face folder.</summary>
        public string? Path { get; init; }
        /// <summary>Text task: the PMs' base, when not the policy's.</summary>
        public string? PmPath { get; init; }
        /// <summary>Text task: the adapters of the PMs and the policy (the paper's r = 8, alpha = 32).</summary>
        public LoraConfig Lora { get; init; } = new();
        /// <summary>Text task: the compute dtype (fp32, fp16, bf16); weights stored in half precision run in fp32 unless set.</summary>
        public string? Dtype { get; init; }
        public int DModel { get; init; } = 64;
        public int Layers { get; init; } = 2;
        public int Heads { get; init; } = 4;
        public int ContextLength { get; init; } = 80;
    }

    public sealed record SftConfig
    {
        public int Demonstrations { get; init; } = 4000;
        public int Epochs { get; init; } = 8;
        public int BatchSize { get; init; } = 128;
        public double LearningRate { get; init; } = 3e-3;
    }

    public sealed record PairsConfig
    {
        /// <summary>Pairs the judge labels for PM training.</summary>
        public int Train { get; init; } = 1500;
        /// <summary>Held-out pairs the judge labels: each PM's accuracy against the judge and against its ground truth.</summary>
        public int Test { get; init; } = 600;
        /// <summary>World: pairs labelled by the simulated human raters (noisy, as HH-RLHF's); the principle weights are fitted on them.</summary>
        public int Human { get; init; } = 600;
        /// <summary>World: pairs that only the noise-free true preference decides; every objective's accuracy is measured on them.</summary>
        public int Accuracy { get; init; } = 5000;
    }

    public sealed record PreferenceModelConfig
    {
        public int Epochs { get; init; } = 3;
        public int BatchSize { get; init; } = 32;
        public double LearningRate { get; init; } = 1e-3;
    }

    public sealed record EvaluationConfig
    {
        /// <summary>Distinct held-out prompts.</summary>
        public int Prompts { get; init; } = 1000;
        /// <summary>
        /// World: responses sampled per prompt and policy (absent: 4); every policy samples with the same random numbers,
        /// so sample j of one policy is compared with sample j of another. A text run samples one: each more would
        /// multiply the judge's calls.
        /// </summary>
        public int? Samples { get; init; }
        /// <summary>World: the share of the prompts asked with templates no training stage saw (Catalog.UnseenTemplates).</summary>
        public double UnseenTemplates { get; init; } = 0.25;
        /// <summary>Differences in true preference at most this large count as ties.</summary>
        public double TieTolerance { get; init; } = 0.05;
        /// <summary>
        /// World: also answer the prompts with every arm's policy as it stood at the end of each earlier PPO chunk (its
        /// checkpoint), so the report has each arm's true preference along its optimisation path, against its KL, not only
        /// at the last iteration (an experiment compares arms there at matched KL). Off by default: it costs one evaluation
        /// per arm and chunk.
        /// </summary>
        public bool Path { get; init; }
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
        // An accuracy over zero decided pairs is NaN; written as "NaN" rather than failing the report.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Reads and validates a config file; every failure is a <see cref="ConfigException"/> naming the file and field.</summary>
    public static RunConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException($"config file '{path}': cannot be read ({e.Message})");
        }
        var config = Parse(text, path);
        // The text task's files are named relative to the config file, wherever the command runs.
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string? Resolve(string? p) => p is null ? null : System.IO.Path.GetFullPath(p, dir);
        return config with
        {
            Model = config.Model with { Path = Resolve(config.Model.Path), PmPath = Resolve(config.Model.PmPath) },
            Data = new DataConfig { Prompts = Resolve(config.Data.Prompts), Human = Resolve(config.Data.Human), Sft = Resolve(config.Data.Sft) },
        };
    }

    public static RunConfig Parse(string json, string source = "config")
    {
        RunConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<RunConfig>(json, Json);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) ? "" : $" field '{e.Path.TrimStart('$', '.')}'";
            throw new ConfigException($"{source}{field}: {FirstSentence(e.Message)}");
        }
        if (config is null) throw new ConfigException($"{source}: is empty (null)");
        config.Validate(source);
        return config;
    }

    public RunConfig WithSeed(long seed) => this with { Seed = seed };

    /// <summary>Whether the judge watches an arm's policy (<see cref="PpoSettings.Monitor"/>): as set, else on for text and off in the world.</summary>
    public bool MonitorOn(PpoSettings ppo) => ppo.Monitor?.Enabled ?? Task == TextTask;

    /// <summary>The monitor's settings for an arm, its defaults where the config has none.</summary>
    public static MonitorSettings MonitorOf(PpoSettings ppo) => ppo.Monitor ?? new MonitorSettings();

    /// <summary>Responses sampled per evaluation prompt: the configured number, else 4 in the world and 1 on text.</summary>
    public int EvaluationSamples => Evaluation.Samples ?? (Task == WorldTask ? 4 : 1);

    public void Validate(string source = "config")
    {
        void Fail(string field, string why) => throw new ConfigException($"{source} field '{field}': {why}");
        void Positive(string field, double value)
        {
            if (!(value > 0) || double.IsInfinity(value)) Fail(field, $"must be a positive number (got {value})");
        }
        void NonNegative(string field, double value)
        {
            if (!(value >= 0) || double.IsInfinity(value)) Fail(field, $"must be zero or more (got {value})");
        }

        if (Task is not (WorldTask or TextTask)) Fail("task", $"unknown task '{Task}' (known: {WorldTask}, {TextTask})");
        var text = Task == TextTask;
        if (Principles is null || Principles.Length == 0) Fail("principles", "must name at least one principle");
        for (var i = 0; i < Principles!.Length; i++)
        {
            // The world's principles are its scorers; a text run's are the judge's (checked against its principle set by the text task).
            if (!text && GroundTruth.Find(Principles[i]) is null)
                Fail($"principles[{i}]", $"unknown principle '{Principles[i]}' (known: {string.Join(", ", GroundTruth.Principles.Select(p => p.Name))})");
            if (string.IsNullOrWhiteSpace(Principles[i])) Fail($"principles[{i}]", "is empty");
            if (Array.IndexOf(Principles, Principles[i]) != i) Fail($"principles[{i}]", $"'{Principles[i]}' is listed twice");
        }
        if (Scalarizers.Find(Scalarization) is null)
            Fail("scalarization", $"unknown scalarization function '{Scalarization}' (known: {string.Join(", ", Scalarizers.Names)})");
        if (Baseline is not (Constitution.Question or Principle.Overall))
            Fail("baseline", $"unknown baseline '{Baseline}' (known: {Constitution.Question}, {Principle.Overall})");
        if (text)
        {
            if (string.IsNullOrWhiteSpace(Model.Path)) Fail("model.path", "task 'text' needs the policy's base, a Hugging Face folder");
            if (string.IsNullOrWhiteSpace(Data.Prompts)) Fail("data.prompts", "task 'text' needs a prompt file (HH-RLHF or TRL prompts JSONL)");
            if (string.IsNullOrWhiteSpace(Data.Human)) Fail("data.human", "task 'text' needs human preference pairs (HH-RLHF JSONL) to fit the principle weights");
            if (Judge.Kind != "openai") Fail("judge.kind", "task 'text' needs a judge that reads text: 'openai' (any OpenAI-compatible endpoint)");
            Positive("model.lora.rank", Model.Lora.Rank);
            Positive("model.lora.alpha", Model.Lora.Alpha);
            // At most the PM base's layers: checked with its config.json (TextRunInputs).
            if (Model.Lora.PmTopLayers is { } top) Positive("model.lora.pmTopLayers", top);
            if (Model.Dtype is not (null or "fp32" or "fp16" or "bf16")) Fail("model.dtype", $"unknown dtype '{Model.Dtype}' (known: fp32, fp16, bf16)");
        }
        else
        {
            string? textOnly = Model.Path is not null ? "model.path" : Model.PmPath is not null ? "model.pmPath" : Model.Dtype is not null ? "model.dtype"
                : Data.Prompts is not null ? "data.prompts" : Data.Human is not null ? "data.human" : Data.Sft is not null ? "data.sft" : null;
            if (textOnly is not null) Fail(textOnly, "is for task 'text' (add \"task\": \"text\")");
        }

        if (Judge.Kind is not ("synthetic" or "openai")) Fail("judge.kind", $"unknown judge '{Judge.Kind}' (known: synthetic, openai)");
        if (Judge.Kind == "openai")
        {
            if (!Uri.TryCreate(Judge.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
                Fail("judge.endpoint", $"an openai judge needs an http(s) endpoint (got '{Judge.Endpoint}')");
            if (string.IsNullOrWhiteSpace(Judge.Model)) Fail("judge.model", "an openai judge needs a model name");
            Positive("judge.concurrency", Judge.Concurrency);
        }
        Positive("judge.sharpness", Judge.Sharpness);
        NonNegative("judge.noiseSd", Judge.NoiseSd);
        if (!double.IsFinite(Judge.PositionBias)) Fail("judge.positionBias", "must be a finite number");

        Positive("model.dModel", Model.DModel);
        Positive("model.layers", Model.Layers);
        Positive("model.heads", Model.Heads);
        Positive("model.contextLength", Model.ContextLength);
        if (Model.DModel % Model.Heads != 0) Fail("model.heads", $"must divide model.dModel ({Model.DModel} / {Model.Heads})");

        Positive("sft.demonstrations", Sft.Demonstrations);
        Positive("sft.epochs", Sft.Epochs);
        Positive("sft.batchSize", Sft.BatchSize);
        Positive("sft.learningRate", Sft.LearningRate);

        Positive("pairs.train", Pairs.Train);
        Positive("pairs.test", Pairs.Test);
        // The world fits the weights on its raters' pairs and measures the objectives on truth-decided pairs; a text run
        // does both on halves of data.human.
        if (!text && Pairs.Human < 20) Fail("pairs.human", $"must be at least 20 rater-labelled pairs to fit the weights on (got {Pairs.Human})");
        if (!text && Pairs.Accuracy < 20) Fail("pairs.accuracy", $"must be at least 20 pairs to measure the objectives on (got {Pairs.Accuracy})");

        Positive("preferenceModel.epochs", PreferenceModel.Epochs);
        Positive("preferenceModel.batchSize", PreferenceModel.BatchSize);
        Positive("preferenceModel.learningRate", PreferenceModel.LearningRate);

        void ValidatePpo(string at, PpoSettings ppo)
        {
            NonNegative($"{at}.iterations", ppo.Iterations);
            Positive($"{at}.rolloutsPerIteration", ppo.RolloutsPerIteration);
            Positive($"{at}.iterationsPerChunk", ppo.IterationsPerChunk);
            Positive($"{at}.maxNewTokens", ppo.MaxNewTokens);
            Positive($"{at}.epochs", ppo.Epochs);
            Positive($"{at}.miniBatches", ppo.MiniBatches);
            if (ppo.MiniBatches > ppo.RolloutsPerIteration) Fail($"{at}.miniBatches", $"must not exceed {at}.rolloutsPerIteration");
            Positive($"{at}.learningRate", ppo.LearningRate);
            Positive($"{at}.klTarget", ppo.KlTarget);
            Positive($"{at}.klHorizon", ppo.KlHorizon);
            NonNegative($"{at}.initKlCoef", ppo.InitKlCoef);
            Positive($"{at}.clipRange", ppo.ClipRange);
            Positive($"{at}.valueClipRange", ppo.ValueClipRange);
            Positive($"{at}.rewardClip", ppo.RewardClip);
            NonNegative($"{at}.valueCoef", ppo.ValueCoef);
            if (ppo.Gamma is < 0 or > 1) Fail($"{at}.gamma", $"must be in [0, 1] (got {ppo.Gamma})");
            if (ppo.Lambda is < 0 or > 1) Fail($"{at}.lambda", $"must be in [0, 1] (got {ppo.Lambda})");
            if (ppo.Beta1 is < 0 or >= 1) Fail($"{at}.beta1", $"must be in [0, 1) (got {ppo.Beta1})");
            if (ppo.Beta2 is < 0 or >= 1) Fail($"{at}.beta2", $"must be in [0, 1) (got {ppo.Beta2})");
            if (!RlAlgorithm.All.Contains(ppo.Algorithm)) Fail($"{at}.algorithm", $"unknown algorithm '{ppo.Algorithm}' (known: {string.Join(", ", RlAlgorithm.All)})");
            if (ppo.CriticFree)
            {
                if (ppo.GroupSize < 2) Fail($"{at}.groupSize", $"must be at least 2 for '{ppo.Algorithm}': its baseline is the other samples of a prompt (got {ppo.GroupSize})");
                if (ppo.RolloutsPerIteration % ppo.GroupSize != 0)
                    Fail($"{at}.rolloutsPerIteration", $"must be a multiple of {at}.groupSize ({ppo.RolloutsPerIteration} rollouts in groups of {ppo.GroupSize})");
            }
            if (!Learning.Ppo.RewardNormalization.All.Contains(ppo.RewardNormalization))
                Fail($"{at}.rewardNormalization", $"unknown normalisation '{ppo.RewardNormalization}' (known: {string.Join(", ", Learning.Ppo.RewardNormalization.All)})");
            if (ppo.RewardNormalization == Learning.Ppo.RewardNormalization.Group && ppo.RolloutsPerIteration < 2)
                Fail($"{at}.rewardNormalization", "'group' needs at least 2 rollouts per iteration to standardise over");
            NonNegative($"{at}.klLossCoef", ppo.KlLossCoef);
            if (ppo.Monitor is { } monitor)
            {
                Positive($"{at}.monitor.every", monitor.Every);
                // Every run has a judge to ask (the world's own, or the chat judge a text run must name, checked above).
                Positive($"{at}.monitor.prompts", monitor.Prompts);
            }
        }
        ValidatePpo("ppo", Ppo);
        if (Arms is not null) ValidateArms(Fail, ValidatePpo, text);
        if (ControlPm && text) Fail("controlPm", "is for task 'world' (its control PM learns from the simulated human raters)");
        if (MatchedBudget && text) Fail("matchedBudget", "is for task 'world' (its judge draws the constitution's principles)");

        Positive("evaluation.prompts", Evaluation.Prompts);
        if (Evaluation.Samples is { } samples)
        {
            Positive("evaluation.samples", samples);
            if (text && samples != 1) Fail("evaluation.samples", "a text run samples one response per prompt (each more would multiply the judge's calls)");
        }
        if (Evaluation.UnseenTemplates is < 0 or > 1 || double.IsNaN(Evaluation.UnseenTemplates))
            Fail("evaluation.unseenTemplates", $"must be a share in [0, 1] (got {Evaluation.UnseenTemplates})");
        NonNegative("evaluation.tieTolerance", Evaluation.TieTolerance);
        if (Evaluation.Path && text) Fail("evaluation.path", "is for task 'world' (the path is scored by its truth)");

        // The world's own model must hold its longest demonstration; a text run's limits come from its model folder.
        if (text) return;
        var longestPrompt = Catalog.AllTexts().Where(t => !Catalog.Sentences.ContainsKey(t)).Max(t => t.Split(' ').Length) + 2;
        var longestDemo = longestPrompt + Demonstrator.MaxSentences * Catalog.Sentences.Keys.Max(s => s.Split(' ').Length) + 1;
        if (Model.ContextLength < longestDemo)
            Fail("model.contextLength", $"must be at least {longestDemo} to hold the world's longest demonstration (got {Model.ContextLength})");
        if (Model.ContextLength < longestPrompt + PolicyArms.Select(a => (a.Ppo ?? Ppo).MaxNewTokens).Append(Ppo.MaxNewTokens).Max())
            Fail("ppo.maxNewTokens", $"prompt ({longestPrompt}) plus response must fit model.contextLength ({Model.ContextLength})");
    }

    private void ValidateArms(Action<string, string> fail, Action<string, PpoSettings> validatePpo, bool text)
    {
        for (var i = 0; i < Arms!.Length; i++)
        {
            var arm = Arms[i];
            // The name is part of record keys and blob names ("ppo/NAME/0000"); "sft" names the SFT policy in evaluations.
            if (!System.Text.RegularExpressions.Regex.IsMatch(arm.Name ?? "", "^[a-z0-9][a-z0-9._@-]*$") || arm.Name == Stages.EvaluationStage.Sft)
                fail($"arms[{i}].name", $"'{arm.Name}' must be lower-case letters, digits, '.', '_', '@' or '-', and not 'sft'");
            if (Array.FindIndex(Arms, a => a.Name == arm.Name) != i) fail($"arms[{i}].name", $"'{arm.Name}' is listed twice");
            string[] rewards = [Stages.ScalarizationStage.MorlaifArm, Stages.ScalarizationStage.BaselineArm, .. Stages.ScalarizationStage.WorldBaselineArms];
            if (!rewards.Contains(arm.Reward)) fail($"arms[{i}].reward", $"unknown reward '{arm.Reward}' (known: {string.Join(", ", rewards)})");
            if (Stages.ScalarizationStage.WorldBaselineArms.Contains(arm.Reward) && text)
                fail($"arms[{i}].reward", $"'{arm.Reward}' is for task 'world' (its PMs learn from the simulated human raters or the constitution's drawn principles)");
            if (arm.Scalarization is { } s)
            {
                if (arm.Reward != Stages.ScalarizationStage.MorlaifArm) fail($"arms[{i}].scalarization", "is for reward 'morlaif'");
                if (Scalarizers.Find(s) is null) fail($"arms[{i}].scalarization", $"unknown scalarization function '{s}' (known: {string.Join(", ", Scalarizers.Names)})");
            }
            if (arm.Ppo is { } ppo) validatePpo($"arms[{i}].ppo", ppo);
        }
        // The evaluation compares a MORLAIF policy with a baseline one.
        if (Arms.Length > 0 && (Arms.All(a => a.Reward != Stages.ScalarizationStage.MorlaifArm) || Arms.All(a => a.Reward != Stages.ScalarizationStage.BaselineArm)))
            fail("arms", "needs an arm with reward 'morlaif' and one with reward 'baseline' (the evaluation compares them), or none at all");
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

/// <summary>A config that cannot be used; the message is one line that names the field and what is wrong.</summary>
public sealed class ConfigException(string message) : Exception(message);
