using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace.Lora;

/// <summary>Shared pieces of the LoRA tests: the two tiny architectures, logits of a batch, adapters with nonzero B.</summary>
internal static class LoraTestKit
{
    public static TheoryData<string> Architectures() => new() { "gpt2", "llama" };

    public static string Config(string arch) => arch == "gpt2" ? TinyHf.Gpt2Config() : TinyHf.LlamaConfig();

    public static readonly int[][] Rows = [[5, 17, 3, 88, 42, 9, 60], [1, 2, 3, 4, 5, 6, 7]];

    public static Tensor Logits(HfCausalLm model, int[][]? rows = null)
    {
        rows ??= Rows;
        using var _ = no_grad();
        var ids = tensor(rows.SelectMany(r => r.Select(i => (long)i)).ToArray(), [rows.Length, rows[0].Length]);
        return model.Forward(ids, ones_like(ids));
    }

    /// <summary>Draws adapter <paramref name="name"/>'s A and B from N(0, scale²), as if trained (a fresh B is zero and changes nothing).</summary>
    public static void Randomize(LoraModel lora, string name, long seed, double scale = 0.1)
    {
        using var g = new Generator((ulong)seed, CPU);
        using var _ = no_grad();
        foreach (var (_, pair) in lora.Pairs(name))
        {
            pair.A.copy_(randn(pair.A.shape, generator: g) * scale);
            pair.B.copy_(randn(pair.B.shape, generator: g) * scale);
        }
    }

    public static Dictionary<string, Tensor> Snapshot(HfCausalLm model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
}
