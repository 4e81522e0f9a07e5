using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Morlaif.Learning.HuggingFace.Lora;

/// <summary>
/// A projection of a loaded model: its module path (the Hugging Face name, as PEFT's keys use it), the index of its
/// decoder layer (what PEFT's layers_to_transform selects), the module in place, and how to replace it.
/// </summary>
public sealed record Projection(string Path, int Layer, Module<Tensor, Tensor> Module, Action<Module<Tensor, Tensor>> Replace);

/// <summary>Finds the attention and MLP projections of an <see cref="HfCausalLm"/> under their module paths.</summary>
public static class LoraTargets
{
    public static IReadOnlyList<Projection> Projections(HfCausalLm model)
    {
        var list = new List<Projection>();
        void Add(string prefix, int layer, IReadOnlyDictionary<string, Module<Tensor, Tensor>> projections, Action<string, Module<Tensor, Tensor>> replace)
        {
            foreach (var (name, module) in projections) list.Add(new Projection($"{prefix}.{name}", layer, module, m => replace(name, m)));
        }
        switch (model)
        {
            case Gpt2LmHeadModel gpt2:
                for (var i = 0; i < gpt2.Transformer.Blocks.Count; i++)
                {
                    var block = gpt2.Transformer.Blocks[i];
                    Add($"transformer.h.{i}.attn", i, block.Attn.Projections, block.Attn.ReplaceProjection);
                    Add($"transformer.h.{i}.mlp", i, block.Mlp.Projections, block.Mlp.ReplaceProjection);
                }
                break;
            case LlamaForCausalLm llama:
                for (var i = 0; i < llama.Model.Layers.Count; i++)
                {
                    var layer = llama.Model.Layers[i];
                    Add($"model.layers.{i}.self_attn", i, layer.SelfAttn.Projections, layer.SelfAttn.ReplaceProjection);
                    Add($"model.layers.{i}.mlp", i, layer.Mlp.Projections, layer.Mlp.ReplaceProjection);
                }
                break;
            default:
                throw new NotSupportedException($"LoRA does not know the projections of {model.GetType().Name}");
        }
        return list;
    }
}
