namespace Morlaif.Learning.Models;

/// <summary>Shape of the decoder-only transformer shared by the policy and the preference models.</summary>
public sealed record TransformerConfig(int VocabSize, int DModel = 64, int Layers = 2, int Heads = 4, int ContextLength = 80)
{
    public int HeadDim => DModel / Heads;
}
