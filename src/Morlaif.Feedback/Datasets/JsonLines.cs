using System.Text;
using System.Text.Json;

namespace Morlaif.Feedback.Datasets;

/// <summary>
/// The JSONL reading every dataset format shares: the file read whole, blank lines skipped, each other line one
/// JSON object handed to the format's parser with its 1-based line number; any problem is one DatasetException
/// naming file and line, and a file with no rows is one too.
/// </summary>
internal static class JsonLines
{
    public static List<T> Read<T>(string path, Func<string, int, JsonElement, T> parse)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, 0, $"cannot be read ({e.Message})");
        }
        var rows = new List<T>();
        for (var i = 0; i < lines.Length; i++)
            if (!string.IsNullOrWhiteSpace(lines[i])) rows.Add(parse(path, i + 1, Object(path, i + 1, lines[i])));
        if (rows.Count == 0) throw new DatasetException(path, 0, "is empty: no JSON lines");
        return rows;
    }

    /// <summary>One line as a JSON object, or the error naming file and line.</summary>
    public static JsonElement Object(string file, int line, string json)
    {
        JsonElement row;
        try
        {
            row = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new DatasetException(file, line, $"malformed JSON ({e.Message.Split(". ")[0]})");
        }
        if (row.ValueKind != JsonValueKind.Object) throw new DatasetException(file, line, "expected a JSON object");
        return row;
    }
}
