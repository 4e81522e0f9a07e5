using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// One adapter alone, in PEFT's layout: adapter_config.json (a LoraConfig) and adapter_model.safetensors whose keys are
/// PEFT's: "base_model.model." + module path + ".lora_A.weight" / ".lora_B.weight" (PEFT strips the adapter name from
/// the key when saving, see get_peft_model_state_dict), and for each of modules_to_save (a preference model's "score"
/// head) "base_model.model." + module + ".weight", as PEFT's ModulesToSaveWrapper saves it.
/// </summary>
public static class LoraFolder
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    public const string KeyPrefix = "base_model.model.";

    /// <summary>What a folder adds beside the adapter itself: extra modules' weights by module name (e.g. "score").</summary>
    public sealed record Loaded(LoraSettings Settings, IReadOnlyDictionary<string, Tensor> ModulesToSave, string TaskType);

    /// <param name="modulesToSave">extra trained modules' weights by module name, saved as "base_model.model.NAME.weight"</param>
    /// <param name="taskType">PEFT's task_type: CAUSAL_LM for a policy, SEQ_CLS for a preference model with a score head</param>
    public static void Save(LoraModel lora, string adapter, string folder, string? baseModelNameOrPath = null,
        IReadOnlyDictionary<string, Tensor>? modulesToSave = null, string taskType = "CAUSAL_LM")
    {
        var s = lora.Adapters.TryGetValue(adapter, out var found) ? found : throw new ArgumentException($"no adapter '{adapter}'", nameof(adapter));
        Directory.CreateDirectory(folder);
        var extra = modulesToSave ?? new Dictionary<string, Tensor>();
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = taskType,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["r"] = s.Rank,
            ["lora_alpha"] = s.Alpha,
            ["lora_dropout"] = s.Dropout,
            ["target_modules"] = new JsonArray(s.Targets(lora.Config).Select(t => (JsonNode)t).ToArray()),
            // PEFT finds a module's layer index after the decoder-layer list's name ("h.3.", "layers.3.") without a layers_pattern.
            ["layers_to_transform"] = s.LayersToTransform is { } layers ? new JsonArray(layers.Select(l => (JsonNode)l).ToArray()) : null,
            // GPT-2's Conv1D stores [in, out]; PEFT needs to be told, or it would merge the transpose.
            ["fan_in_fan_out"] = lora.Config.IsGpt2,
            ["bias"] = "none",
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["modules_to_save"] = extra.Count == 0 ? null : new JsonArray(extra.Keys.Select(k => (JsonNode)k).ToArray()),
        };
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var tensors = new List<(string, Tensor)>();
        foreach (var (path, pair) in lora.Pairs(adapter))
        {
            tensors.Add(($"{KeyPrefix}{path}.lora_A.weight", pair.A));
            tensors.Add(($"{KeyPrefix}{path}.lora_B.weight", pair.B));
        }
        foreach (var (module, weight) in extra) tensors.Add(($"{KeyPrefix}{module}.weight", weight));
        SafetensorsFile.Write(Path.Combine(folder, WeightsFile), tensors, ScalarType.Float32);
    }

    /// <summary>
    /// Adds the folder's adapter to <paramref name="lora"/> as <paramref name="name"/> and reads its A and B; returns the
    /// settings and any modules_to_save weights (on the CPU, fp32). Every problem is a <see cref="ConfigException"/>
    /// naming the file and the field or key.
    /// </summary>
    public static Loaded Load(LoraModel lora, string folder, string name)
    {
        var configPath = Path.Combine(folder, ConfigFile);
        var (settings, modules, taskType) = ReadConfig(configPath, lora.Config);
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath)) throw new ConfigException($"{weightsPath}: not found (only safetensors adapters are supported)");
        using var st = HfModelFolder.OpenWeights(weightsPath);
        try
        {
            lora.AddAdapter(name, settings);
        }
        catch (ArgumentException e) when (!lora.Adapters.ContainsKey(name))
        {
            throw new ConfigException($"{configPath}: target_modules: {e.Message}");
        }
        try
        {
            var expected = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (path, pair) in lora.Pairs(name))
            {
                foreach (var (key, target) in new[] { ($"{KeyPrefix}{path}.lora_A.weight", pair.A), ($"{KeyPrefix}{path}.lora_B.weight", pair.B) })
                {
                    if (!st.Entries.ContainsKey(key)) throw new ConfigException($"{weightsPath}: missing tensor '{key}'" + NamedHint(st, key));
                    st.ReadInto(key, target);
                    expected.Add(key);
                }
            }
            var extra = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var module in modules)
            {
                var key = $"{KeyPrefix}{module}.weight";
                if (!st.Entries.TryGetValue(key, out var entry)) throw new ConfigException($"{weightsPath}: missing tensor '{key}' (modules_to_save names '{module}')");
                var t = empty(entry.Shape, ScalarType.Float32);
                st.ReadInto(key, t);
                extra[module] = t;
                expected.Add(key);
            }
            if (st.Entries.Keys.FirstOrDefault(k => !expected.Contains(k)) is { } unexpected)
                throw new ConfigException($"{weightsPath}: unexpected tensor '{unexpected}' (not a target of {ConfigFile}'s target_modules, or a bias/DoRA tensor, which are not supported)");
            return new Loaded(settings, extra, taskType);
        }
        catch
        {
            lora.RemoveAdapter(name);
            throw;
        }
    }

    /// <summary>A model's own state_dict names the adapter ("lora_A.default.weight"); PEFT's saved files do not.</summary>
    private static string NamedHint(SafetensorsFile st, string key)
    {
        var stem = key[..^".weight".Length] + ".";
        var named = st.Entries.Keys.FirstOrDefault(k => k.StartsWith(stem, StringComparison.Ordinal) && k.EndsWith(".weight", StringComparison.Ordinal));
        return named is null ? "" : $" (it has '{named}': saved adapter keys carry no adapter name)";
    }

    private static (LoraSettings Settings, IReadOnlyList<string> ModulesToSave, string TaskType) ReadConfig(string path, HfConfig model)
    {
        if (!File.Exists(path)) throw new ConfigException($"{path}: not found");
        JsonObject c;
        try { c = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ConfigException($"{path}: is not a JSON object"); }
        catch (JsonException e) { throw new ConfigException($"{path}: is not JSON ({e.Message})"); }

        T Field<T>(string field, T? fallback = default, bool required = true)
        {
            if (c[field] is not { } node)
                return required ? throw new ConfigException($"{path}: {field} is missing") : fallback!;
            try { return node.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new ConfigException($"{path}: {field} must be a {(typeof(T) == typeof(string) ? "string" : typeof(T) == typeof(bool) ? "boolean" : "number")}, not {node.ToJsonString()}");
            }
        }

        if (Field<string>("peft_type") is var type && type != "LORA") throw new ConfigException($"{path}: peft_type '{type}' is not supported (supported: LORA)");
        var r = Field<double>("r");
        if (r != Math.Floor(r) || r <= 0) throw new ConfigException($"{path}: r must be a positive integer, not {r}");
        var alpha = Field<double>("lora_alpha");
        if (!(alpha > 0)) throw new ConfigException($"{path}: lora_alpha must be positive, not {alpha}");
        var dropout = Field("lora_dropout", 0.0, required: false);
        if (!(dropout >= 0 && dropout < 1)) throw new ConfigException($"{path}: lora_dropout must be in [0, 1), not {dropout}");
        if (Field("bias", "none", required: false) is var bias && bias != "none") throw new ConfigException($"{path}: bias '{bias}' is not supported (supported: none)");
        if (Field("use_rslora", false, required: false)) throw new ConfigException($"{path}: use_rslora true is not supported");
        if (Field("use_dora", false, required: false)) throw new ConfigException($"{path}: use_dora true is not supported");
        var fanInFanOut = Field("fan_in_fan_out", false, required: false);
        if (fanInFanOut != model.IsGpt2)
            throw new ConfigException($"{path}: fan_in_fan_out is {fanInFanOut.ToString().ToLowerInvariant()}, but the {model.Architecture} model's projections are {(model.IsGpt2 ? "Conv1D ([in, out], true)" : "Linear ([out, in], false)")}");
        var targets = c["target_modules"] is JsonArray a
            ? a.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ConfigException($"{path}: target_modules must list module names")).ToList()
            : throw new ConfigException($"{path}: target_modules must be a list of module names (a regex string is not supported)");
        var modules = c["modules_to_save"] switch
        {
            null => [],
            JsonArray m => m.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ConfigException($"{path}: modules_to_save must list module names")).ToList(),
            _ => throw new ConfigException($"{path}: modules_to_save must be a list of module names or null"),
        };
        if (targets.Count == 0) throw new ConfigException($"{path}: target_modules is empty");
        var layers = c["layers_to_transform"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var one) => [one],
            JsonArray l => l.Select(n => n is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new ConfigException($"{path}: layers_to_transform must list layer indices")).ToList(),
            _ => throw new ConfigException($"{path}: layers_to_transform must be a layer index, a list of them, or null"),
        };
        if (layers?.FirstOrDefault(l => l < 0 || l >= model.Layers) is { } outside && (outside < 0 || outside >= model.Layers))
            throw new ConfigException($"{path}: layers_to_transform names layer {outside}, but the {model.Architecture} model has {model.Layers} layers (0 to {model.Layers - 1})");
        if (layers is { Count: 0 }) throw new ConfigException($"{path}: layers_to_transform is empty");
        // PEFT's layers_pattern names the decoder-layer list the index follows; any other than this model's ("h" for GPT-2,
        // "layers" otherwise) would select layers of a module this model does not have.
        var blocks = model.IsGpt2 ? "h" : "layers";
        var pattern = c["layers_pattern"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var one) => one,
            JsonArray { Count: 1 } l when l[0] is JsonValue v && v.TryGetValue<string>(out var one) => one,
            var other => other.ToJsonString(),
        };
        if (pattern is not null && pattern != blocks)
            throw new ConfigException($"{path}: layers_pattern '{pattern}' is not supported (supported: null or \"{blocks}\", the {model.Architecture} model's layers)");
        var settings = new LoraSettings((int)r, alpha, dropout, targets, layers);
        return (settings, modules, Field("task_type", "CAUSAL_LM", required: false) ?? "CAUSAL_LM");
    }
}
