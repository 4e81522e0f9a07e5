using System.Text.Json;
using Morlaif.Learning.Runs;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// Reads the JSON files of a checkpoint folder. Every failure is one <see cref="ConfigException"/> (which the CLI
/// prints as one line) that names the folder and file, and the field when a field is wrong.
/// </summary>
internal static class TokenizerFiles
{
    public static string Name(string folder, string file) => $"{folder.TrimEnd('/', '\\')}/{file}";

    public static ConfigException Error(string folder, string file, string message) => new($"{Name(folder, file)}: {message}");

    public static bool Exists(string folder, string file) => File.Exists(Path.Combine(folder, file));

    /// <summary>The parsed file, or null when the folder does not have it.</summary>
    public static JsonDocument? ReadOptional(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path))
            return null;
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw Error(folder, file, $"not valid JSON (line {e.LineNumber + 1}: {FirstLine(e.Message)})");
        }
        catch (IOException e)
        {
            throw Error(folder, file, $"cannot be read ({e.Message})");
        }
    }

    /// <summary>The top-level object of a file, or null when the folder does not have it.</summary>
    public static JsonElement? ReadObject(string folder, string file)
    {
        var doc = ReadOptional(folder, file);
        if (doc is null)
            return null;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw Error(folder, file, "must be a JSON object");
        return doc.RootElement;
    }

    /// <summary>A property, or null when it is absent or JSON null.</summary>
    public static JsonElement? Get(this JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    /// <summary>A token id: a non-negative integer (TryGetInt32 alone throws on a string).</summary>
    public static bool TryGetId(this JsonElement value, out int id)
    {
        id = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out id) && id >= 0;
    }

    private static string FirstLine(string message)
    {
        var cut = message.IndexOfAny(['\r', '\n']);
        return cut > 0 ? message[..cut] : message;
    }
}
