using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// A Hugging Face model folder: config.json, model.safetensors or a sharded model.safetensors.index.json,
/// and the tokenizer files, which are copied through on save so the written folder is complete.
/// </summary>
public static class HfModelFolder
{
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>Two gigabytes per shard, a size every filesystem and loader handles (Hugging Face's default is 5 GB).</summary>
    public const long DefaultMaxShardBytes = 2L << 30;

    /// <summary>The floating-point dtypes Hugging Face language models are stored in, the only ones read or written here.</summary>
    internal static readonly ScalarType[] WeightTypes = [ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16];

    public static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "generation_config.json"];

    /// <summary>The architecture of <paramref name="config"/>, with freshly initialized weights, on the CPU in fp32.</summary>
    public static HfCausalLm Create(HfConfig config) =>
        config.IsGpt2 ? new Gpt2LmHeadModel(config) : new LlamaForCausalLm(config);

    /// <summary>
    /// Loads the folder's model. Its parameters are fp32 unless <paramref name="dtype"/> says otherwise,
    /// whatever the file's dtype (fp16/bf16 matmuls on a CPU are slow and less accurate); they are moved to
    /// <paramref name="device"/> before the weights are read, so each tensor is copied once, to its place.
    /// Every missing, unexpected or mis-shaped tensor is a <see cref="ConfigException"/> naming the file and key.
    /// </summary>
    public static HfCausalLm Load(string folder, ScalarType? dtype = null, Device? device = null)
    {
        var config = HfConfig.Load(folder);
        var model = Create(config);
        try
        {
            if (dtype is { } t && t != ScalarType.Float32) model.to(t);
            if (device is not null) model.to(device);
            LoadWeights(model, folder);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads the folder's safetensors into <paramref name="model"/>'s parameters, tensor by tensor.</summary>
    public static void LoadWeights(HfCausalLm model, string folder)
    {
        var targets = model.state_dict();
        var (files, source) = WeightFiles(folder);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, keys) in files)
        {
            using var st = OpenWeights(file);
            foreach (var key in keys ?? st.Entries.Keys.ToList())
            {
                if (!st.Entries.ContainsKey(key)) throw new ConfigException($"{file}: has no tensor '{key}', which {IndexFile} places there");
                if (model.ModuleKey(key) is not { } name) continue;
                if (!targets.TryGetValue(name, out var target))
                    throw new ConfigException($"{file}: unexpected tensor '{key}' (the {model.Config.Architecture} model has no such parameter)");
                if (!loaded.Add(name)) throw new ConfigException($"{file}: tensor '{key}' is a second copy of '{name}'");
                st.ReadInto(key, target);
            }
        }
        var missing = targets.Keys.Where(k => !loaded.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new ConfigException($"{source}: missing tensor '{missing[0]}'" + (missing.Count > 1 ? $" (and {missing.Count - 1} more)" : ""));
    }

    /// <summary>A weights file of a folder the user gave: every problem with it is a ConfigException naming the file and tensor.</summary>
    internal static SafetensorsFile OpenWeights(string path) => SafetensorsFile.Open(path, m => new ConfigException(m), WeightTypes);

    /// <summary>The safetensors files and, for a sharded checkpoint, the keys the index assigns to each.</summary>
    private static (List<(string File, List<string>? Keys)> Files, string Source) WeightFiles(string folder)
    {
        var index = Path.Combine(folder, IndexFile);
        var single = Path.Combine(folder, WeightsFile);
        if (File.Exists(single)) return ([(single, null)], single);
        if (!File.Exists(index))
            throw new ConfigException($"{folder}: has neither {WeightsFile} nor {IndexFile} (only safetensors checkpoints are supported)");
        JsonObject map;
        try
        {
            map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                ?? throw new ConfigException($"{index}: weight_map is missing");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{index}: is not JSON ({e.Message})");
        }
        var shards = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, node) in map)
        {
            var shard = node is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 && Path.GetFileName(s) == s
                ? s : throw new ConfigException($"{index}: weight_map.{key} must be a file name in the folder");
            if (!shards.TryGetValue(shard, out var list)) shards[shard] = list = [];
            list.Add(key);
        }
        return (shards.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (Path.Combine(folder, p.Key), (List<string>?)p.Value)).ToList(), index);
    }

    /// <summary>
    /// Writes <paramref name="model"/> as a folder transformers and this project load: config.json as read
    /// (torch_dtype set to <paramref name="dtype"/>), its weights in <paramref name="dtype"/>, sharded with an
    /// index when they exceed <paramref name="maxShardBytes"/>, and the tokenizer files of <paramref name="tokenizerSource"/>.
    /// A tied head is not written (transformers ties it again on load).
    /// </summary>
    public static void Save(HfCausalLm model, string folder, string? tokenizerSource = null, ScalarType dtype = ScalarType.Float32,
        long maxShardBytes = DefaultMaxShardBytes)
    {
        if (!WeightTypes.Contains(dtype))
            throw new ArgumentException($"weights are saved as float32, float16 or bfloat16, not {dtype}", nameof(dtype));
        Directory.CreateDirectory(folder);
        foreach (var stale in new[] { WeightsFile, IndexFile }.Concat(Directory.GetFiles(folder, "model-*-of-*.safetensors").Select(Path.GetFileName)))
            File.Delete(Path.Combine(folder, stale!));

        var config = model.Config.Raw.DeepClone().AsObject();
        config["torch_dtype"] = TorchDtypeName(dtype);
        if (config.ContainsKey("dtype")) config["dtype"] = TorchDtypeName(dtype);
        File.WriteAllText(Path.Combine(folder, HfConfig.FileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var tensors = model.state_dict().Select(p => (p.Key, p.Value)).ToList();
        var size = SafetensorsFile.ElementSize(dtype);
        var shards = new List<List<(string, Tensor)>> { new() };
        long shardBytes = 0, total = 0;
        foreach (var entry in tensors)
        {
            var bytes = entry.Value.numel() * size;
            if (shardBytes > 0 && shardBytes + bytes > maxShardBytes) (shards, shardBytes) = ([.. shards, new()], 0);
            shards[^1].Add(entry);
            shardBytes += bytes;
            total += bytes;
        }
        if (shards.Count == 1)
        {
            SafetensorsFile.Write(Path.Combine(folder, WeightsFile), shards[0], dtype);
        }
        else
        {
            var weightMap = new JsonObject();
            for (var i = 0; i < shards.Count; i++)
            {
                var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafetensorsFile.Write(Path.Combine(folder, name), shards[i], dtype);
                foreach (var (key, _) in shards[i]) weightMap[key] = name;
            }
            var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
            File.WriteAllText(Path.Combine(folder, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }

        if (tokenizerSource is not null && Path.GetFullPath(tokenizerSource) != Path.GetFullPath(folder))
            foreach (var file in TokenizerFiles)
                if (File.Exists(Path.Combine(tokenizerSource, file)))
                    File.Copy(Path.Combine(tokenizerSource, file), Path.Combine(folder, file), overwrite: true);
    }

    /// <summary>The dtype a torch_dtype name (config.json's, or a --dtype option's) denotes: float32, float16 or bfloat16.</summary>
    public static ScalarType ParseTorchDtype(string name) => name switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "float16" or "fp16" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ConfigException($"dtype '{name}' is not supported (supported: float32, float16, bfloat16)"),
    };

    public static string TorchDtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => throw new ArgumentException($"no torch_dtype name for {t}", nameof(t)),
    };
}
