using System.Text.Json.Nodes;
using Morlaif.Learning.HuggingFace;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>Tiny random Hugging Face checkpoints, written by the tests themselves (nothing is downloaded).</summary>
internal static class TinyHf
{
    public const int Vocab = 97;

    public static string Gpt2Config(bool tied = true, int positions = 64) => $$"""
        { "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": {{Vocab}}, "n_embd": 32, "n_layer": 2,
          "n_head": 4, "n_positions": {{positions}}, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
          "tie_word_embeddings": {{(tied ? "true" : "false")}}, "bos_token_id": 0, "eos_token_id": 0 }
        """;

    /// <param name="extra">further config fields, e.g. "\"rope_scaling\": {...}"</param>
    public static string LlamaConfig(string modelType = "llama", bool tied = false, int heads = 4, int kvHeads = 2, string extra = "", double ropeTheta = 10000) => $$"""
        { "model_type": "{{modelType}}", "vocab_size": {{Vocab}}, "hidden_size": 32, "intermediate_size": 48,
          "num_hidden_layers": 2, "num_attention_heads": {{heads}}, "num_key_value_heads": {{kvHeads}}, "rms_norm_eps": 1e-5,
          "rope_theta": {{ropeTheta.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "max_position_embeddings": 128, "hidden_act": "silu",
          "tie_word_embeddings": {{(tied ? "true" : "false")}}{{(extra.Length > 0 ? ", " + extra : "")}} }
        """;

    /// <summary>
    /// Chosen so that the 4 frequencies of head_dim 8 fall in all three bands (wavelengths 6.3 &lt; 64/8 kept,
    /// 63 between 8 and 64 blended, 628 and 6283 &gt; 64 slowed); real Llama 3 files use 8192 and high_freq_factor 4.
    /// </summary>
    public const string Llama3Scaling =
        "\"rope_scaling\": { \"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 8.0, \"original_max_position_embeddings\": 64 }";

    /// <summary>
    /// A model of <paramref name="configJson"/> with seeded random weights large enough that its logits spread
    /// (so greedy choices are not near-ties): embeddings ~N(0, 1), matrices ~N(0, 4/fan_in) (so that the blocks, not the
    /// token's own embedding, dominate the residual stream and tied models do not just repeat the last token), norms ~1 + N(0, 0.1).
    /// </summary>
    public static HfCausalLm Model(string configJson, long seed)
    {
        var model = HfModelFolder.Create(HfConfig.Parse(configJson));
        using var g = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var noise = randn(p.shape, generator: g);
            Tensor value = name.EndsWith("bias") ? noise * 0.1
                : p.dim() == 1 ? 1 + noise * 0.1
                : name.Contains("wte") || name.Contains("wpe") || name.Contains("embed_tokens") ? noise
                : noise * 2 / Math.Sqrt(name.Contains("c_") ? p.shape[0] : p.shape[1]);
            p.copy_(value);
        }
        model.eval();
        return model;
    }

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("morlaif-hf-").FullName;

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Rewrites a safetensors file's header with <paramref name="edit"/>, keeping its data bytes (for malformed-file tests).</summary>
    public static void EditHeader(string path, Action<JsonObject> edit)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BitConverter.ToUInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, length))!.AsObject();
        edit(header);
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        using var fs = File.Create(path);
        fs.Write(BitConverter.GetBytes((ulong)padded));
        fs.Write(json);
        for (var i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
        fs.Write(bytes.AsSpan(8 + length));
    }

    public static float[] Floats(Tensor t) => t.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();

    public static double MaxAbsDiff(Tensor a, Tensor b) => (a.to(ScalarType.Float32) - b.to(ScalarType.Float32)).abs().max().item<float>();
}
