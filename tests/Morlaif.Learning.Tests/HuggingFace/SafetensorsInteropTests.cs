using Morlaif.Learning.HuggingFace;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

/// <summary>The safetensors this project writes and reads, against TorchSharp.PyBridge's independent implementation.</summary>
public class SafetensorsInteropTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void PyBridge_reads_what_we_save_with_the_same_keys_dtypes_and_values(ScalarType dtype)
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(TinyHf.LlamaConfig("qwen2", tied: true), seed: 1);
        HfModelFolder.Save(model, folder.Path, dtype: dtype);
        var theirs = Safetensors.LoadStateDict(Path.Combine(folder.Path, HfModelFolder.WeightsFile));
        var ours = model.state_dict();
        Assert.Equal(ours.Keys.Order(), theirs.Keys.Order());
        foreach (var (name, t) in ours)
        {
            Assert.Equal(dtype, theirs[name].dtype);
            Assert.Equal(TinyHf.Floats(t.to(dtype)), TinyHf.Floats(theirs[name]));
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void We_load_what_PyBridge_writes(ScalarType dtype)
    {
        using var folder = new TinyHf.TempFolder();
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 2);
        HfModelFolder.Save(model, folder.Path);
        var converted = model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().to(dtype));
        Safetensors.SaveStateDict(Path.Combine(folder.Path, HfModelFolder.WeightsFile), converted);
        using var loaded = HfModelFolder.Load(folder.Path);
        foreach (var (name, t) in loaded.state_dict()) Assert.Equal(TinyHf.Floats(converted[name]), TinyHf.Floats(t));
    }
}
