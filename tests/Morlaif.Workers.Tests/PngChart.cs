using System.Buffers.Binary;
using System.Text.RegularExpressions;
using SkiaSharp;

namespace Morlaif.Workers.Tests;

/// <summary>What a chart file must be: a PNG of the size asked that shows the series it was given.</summary>
public static partial class PngChart
{
    public static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <param name="series">colours that must be drawn (each series' points, lines or bars)</param>
    /// <param name="absent">colours that must not be</param>
    /// <param name="minPixels">how many pixels each series colour must cover: above a legend swatch's count where the data, not the legend, must show it</param>
    /// <param name="maxWhite">the largest white share (a line chart of a few points is mostly white)</param>
    public static void AssertShows(byte[] png, int width, int height, ScottPlot.Color[] series, ScottPlot.Color[]? absent = null, int minPixels = 50, double maxWhite = 0.95)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal((width, height), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var counts = bitmap.Pixels.GroupBy(p => (p.Red, p.Green, p.Blue)).ToDictionary(g => g.Key, g => g.Count());
        // Not blank: a white page with a frame has a handful of colours; text, grid and data bring many more.
        Assert.True(counts.Count > 100, $"only {counts.Count} distinct colours");
        Assert.True(counts.GetValueOrDefault(((byte)255, (byte)255, (byte)255)) < maxWhite * width * height, "almost all white");
        foreach (var c in series) Assert.True(counts.GetValueOrDefault((c.R, c.G, c.B)) >= minPixels, $"series colour {c.ToHex()} on {counts.GetValueOrDefault((c.R, c.G, c.B))} pixels");
        foreach (var c in absent ?? []) Assert.Equal(0, counts.GetValueOrDefault((c.R, c.G, c.B)));
    }

    /// <summary>The images a markdown file shows, in order: `![title](file)`.</summary>
    public static IReadOnlyList<string> Linked(string markdown) => [.. Image().Matches(markdown).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"!\[[^\]]*\]\(([^)]+)\)")]
    private static partial Regex Image();
}
