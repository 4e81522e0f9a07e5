using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// What every stage of a text run derives from its config and its model folders (local copies of what the run
/// stored): the tokenizer of the policy's base, the questions, the LoRA settings, the seeds, and the models, loaded
/// fresh by each stage (a stage adds adapters to its base; two stages never share one).
/// </summary>
public sealed class TextRun(RunConfig config, string modelFolder, string pmFolder, Device device) : IDisposable
{
    /// <summary>Where the SFT adapter goes when it is merged into the policy's base.</summary>
    public const string SftAdapter = "sft";

    public RunConfig Config { get; } = config.Task == RunConfig.TextTask ? config : throw new ArgumentException("not a text run's config", nameof(config));
    public string ModelFolder { get; } = modelFolder;
    public string PmFolder { get; } = pmFolder;
    public Device Device { get; } = device;
    public PreTrainedTokenizer Tokenizer { get; } = PreTrainedTokenizer.FromPretrained(modelFolder);

    /// <summary>The single-objective baseline's question: "constitution" (the paper's) or "overall".</summary>
    public string BaselineQuestion => Config.Baseline;

    /// <summary>The MORLAIF principles, then the baseline's question.</summary>
    public IReadOnlyList<string> Questions => [.. Config.Principles, BaselineQuestion];

    public LoraSettings Lora => new(Rank: Config.Model.Lora.Rank, Alpha: Config.Model.Lora.Alpha);

    public ScalarType? Dtype => Config.Model.Dtype is { } name ? HfModelFolder.ParseTorchDtype(name) : null;

    public int Seed(params object[] purpose) => Seeds.Derive(Config.Seed, purpose);

    /// <summary>The PMs' base: model.pmPath, or the policy's base (never the SFT policy: the PMs do not depend on SFT).</summary>
    public HfCausalLm LoadPmBase() => HfModelFolder.Load(PmFolder, Dtype, Device);

    /// <summary>The policy's base with the SFT adapter (a PEFT folder) merged in for good, or the base alone without SFT.</summary>
    public HfCausalLm LoadSftPolicy(string? sftAdapterFolder)
    {
        var model = HfModelFolder.Load(ModelFolder, Dtype, Device);
        if (sftAdapterFolder is null) return model;
        try
        {
            var lora = new LoraModel(model);
            LoraFolder.Load(lora, sftAdapterFolder, SftAdapter);
            lora.MergeAndUnload(SftAdapter);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The stop ids a response ends at, within the model's vocabulary.</summary>
    public IReadOnlyList<int> StopIds(HfCausalLm model) => Tokenizer.StopIds.Where(i => i >= 0 && i < model.Config.VocabSize).Distinct().ToList();

    public int[] EncodePrompt(string prompt) => Tokenizer.EncodePrompt(prompt);

    /// <summary>A complete response after its prompt, as every stage builds one (<see cref="PreTrainedTokenizer.EncodeCompleted"/>).</summary>
    public int[] Sequence(string prompt, string response) => Tokenizer.EncodeCompleted(prompt, response);

    /// <summary>A generated response's text (special tokens such as the closing eos left out).</summary>
    public string Decode(IEnumerable<int> ids) => Tokenizer.Decode(ids);

    public void Dispose() => Tokenizer.Dispose();
}
