using System.Text.Json;

namespace Morlaif.Feedback.Datasets;

/// <summary>One supervised example: the prompt (not trained on; empty for plain text) and the completion trained on.</summary>
public sealed record SftExample(string Prompt, string Completion, int Line);

/// <summary>
/// Reads TRL's SFT formats from JSONL: <c>{"prompt", "completion"}</c> (strings, or lists of messages),
/// <c>{"messages": [{"role", "content"}, ...]}</c> (the last message must be the assistant's and is the completion;
/// the turns before it are the prompt) and <c>{"text"}</c> (the whole text is trained on). Messages are joined with
/// the template the preference readers use, "\n\nHuman: ...\n\nAssistant:" ("System:" for system turns), and the
/// completion follows after one space: a checkpoint's own Jinja chat_template is not applied (no template engine here).
/// Every problem is one error naming the file, line and field; nothing is returned from a file with any bad line.
/// </summary>
public static class SftDatasets
{
    public static List<SftExample> Read(string path) => JsonLines.Read(path, Parse);

    internal static SftExample Parse(string file, int line, JsonElement row)
    {
        SftExample example;
        if (row.TryGetProperty("messages", out var messages))
        {
            if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() < 2)
                throw new DatasetException(file, line, "'messages' must be a list of at least two {role, content} messages");
            var turns = messages.EnumerateArray().ToList();
            var (prompt, completion) = Split(file, line, turns, "messages");
            example = new SftExample(prompt, completion, line);
        }
        else if (row.TryGetProperty("prompt", out var prompt))
        {
            if (!row.TryGetProperty("completion", out var completion))
                throw new DatasetException(file, line, "missing field 'completion' (beside 'prompt')");
            var p = prompt.ValueKind is JsonValueKind.String or JsonValueKind.Array
                ? PreferenceDatasets.Conversation(file, line, prompt, "prompt")
                : throw new DatasetException(file, line, "'prompt' must be a string or a list of messages");
            if (p.Length == 0) throw new DatasetException(file, line, "'prompt' is empty");
            example = new SftExample(p, Completion(file, line, completion, prompt.ValueKind == JsonValueKind.Array), line);
        }
        else if (row.TryGetProperty("text", out var text))
        {
            example = text.ValueKind == JsonValueKind.String
                ? new SftExample("", text.GetString()!, line)
                : throw new DatasetException(file, line, "'text' must be a string");
        }
        else
        {
            throw new DatasetException(file, line, "expected 'prompt' and 'completion', 'messages', or 'text'");
        }
        if (string.IsNullOrWhiteSpace(example.Completion)) throw new DatasetException(file, line, "the completion is empty");
        return example;
    }

    private static (string Prompt, string Completion) Split(string file, int line, List<JsonElement> turns, string field)
    {
        var last = turns[^1];
        if (last.ValueKind != JsonValueKind.Object || !last.TryGetProperty("role", out var role) || role.GetString() != "assistant"
            || !last.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
            throw new DatasetException(file, line, $"'{field}' must end with an assistant message {{role, content}}");
        var before = JsonSerializer.SerializeToElement(turns[..^1]);
        return (PreferenceDatasets.Conversation(file, line, before, field), " " + content.GetString());
    }

    /// <summary>A string completion as written, or a list of messages ending with the assistant's (after the template's space).</summary>
    private static string Completion(string file, int line, JsonElement value, bool conversational) => value.ValueKind switch
    {
        JsonValueKind.String => conversational ? " " + value.GetString() : value.GetString()!,
        JsonValueKind.Array when value.GetArrayLength() > 0 => Split(file, line, [.. value.EnumerateArray()], "completion") switch
        {
            (var p, _) when p != "\n\nAssistant:" => throw new DatasetException(file, line, "'completion' must hold only the assistant's message"),
            (_, var c) => c,
        },
        _ => throw new DatasetException(file, line, "'completion' must be a string or a list of messages"),
    };
}
