using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Lora;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Runs;
using static TorchSharp.torch;

namespace Morlaif.Learning.TextRuns;

/// <summary>
/// The Hugging Face backend's run context: besides the questions and seeds of every run (<see cref="Stages.RunContext"/>),
/// what a text run derives from its model folders (local copies of what the run stored): the tokenizer of the policy's
/// base, the LoRA settings, and the models, loaded fresh by each stage (a stage adds adapters to its base; two stages
/// never share one).
/// </summary>
public sealed class TextRun(RunConfig config, string modelFolder, string pmFolder, Device device)
    : Stages.RunContext(config.Task == RunConfig.TextTask ? config : throw new ArgumentException("not a text run's config", nameof(config)), device),
        Stages.IPromptTokenizer<string>, IDisposable
{
    /// <summary>Where the SFT adapter goes when it is merged into the policy's base.</summary>
    public const string SftAdapter = "sft";

    public string ModelFolder { get; } = modelFolder;
    public string PmFolder { get; } = pmFolder;
    public PreTrainedTokenizer Tokenizer { get; } = PreTrainedTokenizer.FromPretrained(modelFolder);

    public LoraSettings Lora => new(Rank: Config.Model.Lora.Rank, Alpha: Config.Model.Lora.Alpha);

    /// <summary>The PMs' adapters: <see cref="Lora"/> on the top model.lora.pmTopLayers layers of <paramref name="pmBase"/>, or on all.</summary>
    public LoraSettings PmLora(HfConfig pmBase) => Lora.OnTopLayers(Config.Model.Lora.PmTopLayers, pmBase.Layers);

    public ScalarType? Dtype => Config.Model.Dtype is { } name ? HfModelFolder.ParseTorchDtype(name) : null;

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

    /// <summary>A dataset's prompt is the conversation as the data gave it.</summary>
    public string Conversation(string prompt) => prompt;

    public void Dispose() => Tokenizer.Dispose();
}
