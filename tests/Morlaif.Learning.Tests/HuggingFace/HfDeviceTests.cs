using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>
/// The meta-device trap of <see cref="Devices.DeviceTests"/> for the Hugging Face models: with torch's default
/// device set to meta, any tensor made without naming the data's device is a meta tensor and the first op that
/// combines it with the CPU weights throws.
/// </summary>
[Collection(nameof(ProcessWideTorchState))]
public class HfDeviceTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Loading_forward_passes_and_generation_make_nothing_off_device(string family)
    {
        var config = family == "gpt2" ? TinyHf.Gpt2Config() : TinyHf.LlamaConfig("qwen2", extra: TinyHf.Llama3Scaling);
        using var folder = new TinyHf.TempFolder();
        using (var written = TinyHf.Model(config, seed: 2)) HfModelFolder.Save(written, folder.Path, dtype: ScalarType.BFloat16);
        var before = get_default_device();
        set_default_device(new Device("meta"));
        try
        {
            using var model = HfModelFolder.Load(folder.Path, device: CPU);
            var batch = SequenceBatch.LeftPadded([[1, 2, 3], [4, 5]], CPU);
            _ = model.Forward(batch.Tokens, batch.Valid);
            using var g = new Generator(1, CPU);
            var sampled = HfGeneration.Generate(model, [[1, 2, 3], [4, 5]], new GenerationOptions { MaxNewTokens = 4, TopP = 0.8, EosTokenIds = [7] }, g);
            var greedy = HfGeneration.Generate(model, [[1, 2, 3]], new GenerationOptions { Greedy = true, MaxNewTokens = 4 });
            Assert.Equal(2, sampled.Count);
            Assert.Equal(4, greedy[0].Ids.Length);
            using var saved = new TinyHf.TempFolder();
            HfModelFolder.Save(model, saved.Path, dtype: ScalarType.Float16);
        }
        finally
        {
            set_default_device(before);
        }
    }
}
