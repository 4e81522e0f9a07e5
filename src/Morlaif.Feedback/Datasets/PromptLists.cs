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
            if (row.ValueKind != JsonValueKind.Object || !row.TryGetProperty("prompt", out var prompt))
                throw new DatasetException(path, i + 1, "missing field 'prompt'");
            // Reuse the preference reader's conversation rules by wrapping the prompt in a dummy pair.
            var text = prompt.ValueKind == JsonValueKind.String
                ? prompt.GetString()!
                : PreferenceDatasets.Parse(path, i + 1, JsonSerializer.SerializeToElement(new { prompt, chosen = "a", rejected = "b" })).Prompt;
            if (string.IsNullOrWhiteSpace(text)) throw new DatasetException(path, i + 1, "the prompt is empty");
            prompts.Add((text, i + 1));
        }
        if (prompts.Count == 0) throw new DatasetException(path, 0, "is empty: no prompts");
        return prompts;
    }
}
