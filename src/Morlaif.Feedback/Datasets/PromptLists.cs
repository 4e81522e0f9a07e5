using System.Text.Json;

namespace Morlaif.Feedback.Datasets;

/// <summary>
/// Plain prompt lists for generation: JSONL with a "prompt" field (a string, or a list of {role, content}
/// messages, read like TRL's), or a text file with one prompt per line. Errors name the file and line.
/// </summary>
public static class PromptLists
{
    public static List<(string Prompt, int Line)> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, 0, $"cannot be read ({e.Message})");
        }
        var jsonl = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var prompts = new List<(string, int)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            if (!jsonl)
            {
                prompts.Add((lines[i].Trim(), i + 1));
                continue;
            }
            JsonElement row;
            try
            {
                row = JsonDocument.Parse(lines[i]).RootElement;
            }
            catch (JsonException e)
            {
                throw new DatasetException(path, i + 1, $"malformed JSON ({e.Message.Split(". ")[0]})");
            }
            prompts.Add((Prompt(path, i + 1, row), i + 1));
        }
        if (prompts.Count == 0) throw new DatasetException(path, 0, "is empty: no prompts");
        return prompts;
    }

    /// <summary>
    /// A text run's prompts, distinct, each with the line it first appears on: JSONL rows in HH-RLHF's format (the
    /// conversation up to the last "\n\nAssistant:" of chosen/rejected) or TRL's ("prompt"), mixed freely.
    /// </summary>
    public static List<(string Prompt, int Line)> ReadConversations(string path) =>
        JsonLines.Read(path, (file, line, row) => row.ValueKind == JsonValueKind.Object && row.TryGetProperty("chosen", out _)
                ? (PreferenceDatasets.Parse(file, line, row).Prompt, line)
                : (Prompt(file, line, row), line))
            .DistinctBy(p => p.Item1).ToList();

    private static string Prompt(string path, int line, JsonElement row)
    {
        if (row.ValueKind != JsonValueKind.Object || !row.TryGetProperty("prompt", out var prompt))
            throw new DatasetException(path, line, "missing field 'prompt' (or HH-RLHF's 'chosen' and 'rejected')");
        // Reuse the preference reader's conversation rules by wrapping the prompt in a dummy pair.
        var text = prompt.ValueKind == JsonValueKind.String
            ? prompt.GetString()!
            : PreferenceDatasets.Parse(path, line, JsonSerializer.SerializeToElement(new { prompt, chosen = "a", rejected = "b" })).Prompt;
        if (string.IsNullOrWhiteSpace(text)) throw new DatasetException(path, line, "the prompt is empty");
        return text;
    }
}
