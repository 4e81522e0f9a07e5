using Morlaif.Learning.HuggingFace;
using static TorchSharp.torch;

namespace Morlaif.Benchmarks;

/// <summary>GPT-2 small (124M parameters) with random weights, made once per process and shared by the cases, and its sizes.</summary>
internal static class Gpt2Small
{
    private const string ConfigJson = """
        { "model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
          "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "tie_word_embeddings": true, "bos_token_id": 50256, "eos_token_id": 50256 }
        """;

    private static readonly Lazy<HfCausalLm> Shared = new(() =>
    {
        manual_seed(1);
        var model = HfModelFolder.Create(HfConfig.Parse(ConfigJson));
        model.eval();
        return model;
    });

    public static HfCausalLm Model => Shared.Value;

    public static HfConfig Config => Model.Config;

    public static long Parameters => Model.parameters().Sum(p => p.numel());

    /// <summary>fp32 bytes of the weights, all read once by every forward step.</summary>
    public static double WeightBytes => 4.0 * Parameters;

    /// <summary>Parameters that take part in a matmul: all but the position table, which is only looked up (the tied token table is also the head).</summary>
    public static long MatmulParameters => Parameters - (long)Config.MaxPositions * Config.HiddenSize;

    /// <summary>Prompts of <paramref name="length"/> arbitrary ids, different per row.</summary>
    public static List<int[]> Prompts(int batch, int length) =>
        Enumerable.Range(0, batch).Select(b => Enumerable.Range(0, length).Select(i => (b * 977 + i * 131) % 50000).ToArray()).ToList();
}
