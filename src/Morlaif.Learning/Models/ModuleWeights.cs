using TorchSharp;
using static TorchSharp.torch;

namespace Morlaif.Learning.Models;

/// <summary>Module weights to and from bytes in TorchSharp's own format: for artifacts and for copies.</summary>
public static class ModuleWeights
{
    public static byte[] Save(nn.Module module)
    {
        using var ms = new MemoryStream();
        // TorchSharp's Stream overloads close the stream; the BinaryWriter/Reader overloads leave it to us.
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) module.save(w);
        return ms.ToArray();
    }

    public static void Load(nn.Module module, byte[] weights)
    {
        using var ms = new MemoryStream(weights, writable: false);
        using var r = new BinaryReader(ms);
        module.load(r);
    }

    /// <summary>Copies weights between modules of the same shape, onto the source's device.</summary>
    public static void Copy(nn.Module from, nn.Module to)
    {
        Load(to, Save(from));
        to.to(from.parameters().First().device);
    }
}
