using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>Copies weights between modules of the same shape, through TorchSharp's own checkpoint format.</summary>
internal static class ModuleWeights
{
    public static void Copy(nn.Module from, nn.Module to)
    {
        using var ms = new MemoryStream();
        // TorchSharp's Stream overloads close the stream; the BinaryWriter/Reader overloads leave it to us.
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) from.save(w);
        ms.Position = 0;
        using var r = new BinaryReader(ms);
        to.load(r);
        var device = from.parameters().First().device;
        to.to(device);
    }
}
