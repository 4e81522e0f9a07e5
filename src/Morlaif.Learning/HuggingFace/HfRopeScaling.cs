using System.Text.Json.Nodes;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.HuggingFace;

/// <summary>
/// Llama 3.1/3.2's rope_scaling ("rope_type": "llama3"): the rotary frequencies are rescaled by wavelength
/// band once, at build time. Llama 3.2 needs it even for short prompts, because it changes every
/// low-frequency component, so an unsupported type is refused rather than ignored.
/// </summary>
public sealed record HfRopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions)
{
    private static readonly string[] Supported = ["default", "llama3"];

    /// <summary>
    /// rope_scaling (transformers 4; older files name the type "type") or rope_parameters (transformers 5).
    /// Null for the default rotary embedding.
    /// </summary>
    internal static HfRopeScaling? Read(JsonObject root, JsonObject? ropeParameters, string source)
    {
        var (node, key) = ropeParameters is not null ? ((JsonNode?)ropeParameters, "rope_parameters") : (root["rope_scaling"], "rope_scaling");
        if (node is null) return null;
        if (node is not JsonObject o) throw new ConfigException($"{source}: {key} must be an object or null (found {node.ToJsonString()})");
        var r = new HfConfig.Reader(o, source, key + ".");
        var type = r.OptionalString("rope_type") ?? r.OptionalString("type")
            ?? throw new ConfigException($"{source}: {key}.rope_type is missing");
        if (!Supported.Contains(type))
            throw new ConfigException($"{source}: {key}.rope_type '{type}' is not supported (supported: {string.Join(", ", Supported)})");
        if (type == "default") return null;
        var low = r.Double("low_freq_factor");
        var high = r.Double("high_freq_factor");
        if (high <= low) throw new ConfigException($"{source}: {key}.high_freq_factor ({high}) must be greater than low_freq_factor ({low})");
        return new HfRopeScaling(r.Double("factor"), low, high, r.Int("original_max_position_embeddings"));
    }

    /// <summary>
    /// Wavelengths longer than the original context / low_freq_factor are slowed by factor, those shorter
    /// than context / high_freq_factor are kept, and the band between interpolates linearly in
    /// context / wavelength, so the spectrum stays continuous.
    /// </summary>
    public double[] Apply(double[] invFreq)
    {
        var lowWavelen = OriginalMaxPositions / LowFreqFactor;
        var highWavelen = OriginalMaxPositions / HighFreqFactor;
        var result = new double[invFreq.Length];
        for (var i = 0; i < invFreq.Length; i++)
        {
            var wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen > lowWavelen) result[i] = invFreq[i] / Factor;
            else if (wavelen < highWavelen) result[i] = invFreq[i];
            else
            {
                var smooth = (OriginalMaxPositions / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                result[i] = (1 - smooth) * invFreq[i] / Factor + smooth * invFreq[i];
            }
        }
        return result;
    }
}
