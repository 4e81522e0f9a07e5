using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.HuggingFace;

/// <summary>The architectures this project implements, by Hugging Face's <c>model_type</c>.</summary>
public enum HfArchitecture { Gpt2, Llama, Mistral, Qwen2 }

/// <summary>
/// A checkpoint folder's <c>config.json</c>, reduced to what the forward pass needs. Both families are one
/// record because the rest of the project (generation, LoRA, a scalar head) only needs the shared shape
/// (hidden size, layers, vocabulary); the family-specific fields are meaningful only for their family.
/// The raw JSON is kept so that saving writes back every field we did not interpret (ids, names, ...).
/// </summary>
public sealed record HfConfig
{
    public required HfArchitecture Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    /// <summary>GPT-2's learned position table size; for rotary models only a limit reported to the user.</summary>
    public required int MaxPositions { get; init; }
    public required double NormEps { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>GPT-2's activation_function (gelu_new, gelu, relu, ...); "silu" for the Llama family.</summary>
    public required string Activation { get; init; }

    public double RopeTheta { get; init; } = 10000;
    public HfRopeScaling? RopeScaling { get; init; }
    /// <summary>Biases on q, k, v (Llama's attention_bias, always on for Qwen2).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on o_proj (Llama's attention_bias; never for Qwen2).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>Mistral's sliding window; null when every key is attended.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>The dtype the file declares (torch_dtype, or dtype in newer files), e.g. "bfloat16"; null when absent.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>config.json as read, for <see cref="HfModelFolder.Save"/>.</summary>
    public JsonObject Raw { get; init; } = new();

    public bool IsGpt2 => Architecture == HfArchitecture.Gpt2;

    public const string FileName = "config.json";

    public static HfConfig Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot be read ({e.Message})");
        }
        return Parse(text, path);
    }

    /// <summary>Every failure is one <see cref="ConfigException"/> naming <paramref name="source"/> and the field.</summary>
    public static HfConfig Parse(string json, string source = FileName)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) as JsonObject
                ?? throw new ConfigException($"{source}: is not a JSON object");
            _ = root.Count; // JsonObject reads its properties lazily: a duplicate name surfaces here
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{source}: has a field twice ({e.Message})");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{source}: is not JSON ({e.Message})");
        }
        var r = new Reader(root, source);
        var type = r.String("model_type");
        return type switch
        {
            "gpt2" => Gpt2(r, root),
            "llama" => Llama(r, root, HfArchitecture.Llama),
            "mistral" => Llama(r, root, HfArchitecture.Mistral),
            "qwen2" => Llama(r, root, HfArchitecture.Qwen2),
            _ => throw new ConfigException($"{source}: model_type '{type}' is not supported (supported: gpt2, llama, mistral, qwen2)"),
        };
    }

    private static readonly string[] Gpt2Activations = ["gelu_new", "gelu_pytorch_tanh", "gelu", "relu"];

    private static HfConfig Gpt2(Reader r, JsonObject root)
    {
        var hidden = r.Int("n_embd");
        var heads = r.Int("n_head");
        r.Divides("n_head", heads, "n_embd", hidden);
        // GPT-2's defaults are GPT2Config's: files from save_pretrained omit fields equal to them.
        var activation = r.OptionalString("activation_function") ?? "gelu_new";
        if (!Gpt2Activations.Contains(activation))
            throw new ConfigException($"{r.Source}: activation_function '{activation}' is not supported (supported: {string.Join(", ", Gpt2Activations)})");
        // Variants that change the attention arithmetic are refused rather than silently computed the standard way.
        if (r.OptionalBool("scale_attn_by_inverse_layer_idx") == true)
            throw new ConfigException($"{r.Source}: scale_attn_by_inverse_layer_idx true is not supported");
        if (r.OptionalBool("scale_attn_weights") == false)
            throw new ConfigException($"{r.Source}: scale_attn_weights false is not supported");
        return new HfConfig
        {
            Architecture = HfArchitecture.Gpt2,
            VocabSize = r.Int("vocab_size"),
            HiddenSize = hidden,
            Layers = r.Int("n_layer"),
            Heads = heads,
            KvHeads = heads,
            HeadDim = hidden / heads,
            IntermediateSize = r.OptionalInt("n_inner") ?? 4 * hidden,
            MaxPositions = r.Int("n_positions"),
            NormEps = r.OptionalDouble("layer_norm_epsilon") ?? 1e-5,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? true,
            Activation = activation,
            TorchDtype = r.OptionalString("torch_dtype") ?? r.OptionalString("dtype"),
            Raw = root,
        };
    }

    private static HfConfig Llama(Reader r, JsonObject root, HfArchitecture arch)
    {
        var hidden = r.Int("hidden_size");
        var heads = r.Int("num_attention_heads");
        var kvHeads = r.OptionalInt("num_key_value_heads") ?? heads;
        r.Divides("num_key_value_heads", kvHeads, "num_attention_heads", heads);
        var headDim = r.OptionalInt("head_dim");
        if (headDim is null) r.Divides("num_attention_heads", heads, "hidden_size", hidden);
        var act = r.OptionalString("hidden_act") ?? "silu";
        if (act != "silu") throw new ConfigException($"{r.Source}: hidden_act '{act}' is not supported (supported: silu)");
        if (r.OptionalInt("pretraining_tp") is > 1)
            throw new ConfigException($"{r.Source}: pretraining_tp {r.OptionalInt("pretraining_tp")} is not supported (supported: 1)");
        var attentionBias = r.OptionalBool("attention_bias") ?? false;
        // Qwen2 always has q/k/v biases and never an o bias; Mistral has none.
        var (qkvBias, oBias) = arch switch
        {
            HfArchitecture.Qwen2 => (true, false),
            HfArchitecture.Mistral => (false, false),
            _ => (attentionBias, attentionBias),
        };
        int? window = null;
        if (arch == HfArchitecture.Mistral || (arch == HfArchitecture.Qwen2 && r.OptionalBool("use_sliding_window") == true))
            window = r.OptionalInt("sliding_window");
        // Transformers 5 moved rope_theta and rope_scaling into one rope_parameters object.
        var ropeParameters = root["rope_parameters"] as JsonObject;
        var theta = ropeParameters is not null
            ? new Reader(ropeParameters, r.Source, "rope_parameters.").OptionalDouble("rope_theta")
            : null;
        return new HfConfig
        {
            Architecture = arch,
            VocabSize = r.Int("vocab_size"),
            HiddenSize = hidden,
            Layers = r.Int("num_hidden_layers"),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim ?? hidden / heads,
            IntermediateSize = r.Int("intermediate_size"),
            MaxPositions = r.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps = r.OptionalDouble("rms_norm_eps") ?? 1e-6,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
            Activation = act,
            RopeTheta = theta ?? r.OptionalDouble("rope_theta") ?? 10000,
            RopeScaling = HfRopeScaling.Read(root, ropeParameters, r.Source),
            QkvBias = qkvBias,
            OutputBias = oBias,
            MlpBias = r.OptionalBool("mlp_bias") ?? false,
            SlidingWindow = window,
            TorchDtype = r.OptionalString("torch_dtype") ?? r.OptionalString("dtype"),
            Raw = root,
        };
    }

    /// <summary>Typed access to a JSON object whose every failure names the file and the field.</summary>
    internal sealed class Reader(JsonObject o, string source, string prefix = "")
    {
        public string Source => source;

        private JsonNode? Node(string key) => o.TryGetPropertyValue(key, out var n) ? n : null;

        private ConfigException Bad(string key, string expected, JsonNode? n) =>
            new($"{source}: {prefix}{key} must be {expected} (found {n?.ToJsonString() ?? "null"})");

        public string String(string key) =>
            OptionalString(key) ?? throw new ConfigException($"{source}: {prefix}{key} is missing");

        public string? OptionalString(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var n => throw Bad(key, "a string", n),
        };

        public int Int(string key) => OptionalInt(key) ?? throw new ConfigException($"{source}: {prefix}{key} is missing");

        public int? OptionalInt(string key)
        {
            var n = Node(key);
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d >= 1 && d <= int.MaxValue) return (int)d;
            throw Bad(key, "a positive integer", n);
        }

        public double Double(string key) => OptionalDouble(key) ?? throw new ConfigException($"{source}: {prefix}{key} is missing");

        public double? OptionalDouble(string key)
        {
            var n = Node(key);
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d)) return d;
            throw Bad(key, "a number", n);
        }

        public bool? OptionalBool(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var n => throw Bad(key, "true or false", n),
        };

        public void Divides(string divisorKey, int divisor, string key, int value)
        {
            if (value % divisor != 0)
                throw new ConfigException($"{source}: {prefix}{key} ({value}) is not a multiple of {prefix}{divisorKey} ({divisor})");
        }
    }
}
