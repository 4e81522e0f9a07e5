using System.Text;
using System.Text.Json;

namespace Morlaif.Feedback.Datasets;

/// <summary>
/// Reads preference pairs from JSONL in the two formats users have:
/// Anthropic HH-RLHF (`chosen` and `rejected` each hold the whole "\n\nHuman: ...\n\nAssistant: ..." text; the
/// prompt is everything up to the last "\n\nAssistant:", the responses what follows it, as the paper's code
/// splits them) and TRL's preference format (`prompt`, `chosen`, `rejected`, as strings or as lists of
/// {role, content} messages). Every problem is one error naming the file and line; nothing is returned
/// from a file with any bad line.
/// </summary>
public static class PreferenceDatasets
{
    private const string AssistantTurn = "\n\nAssistant:";

    public static List<PreferenceExample> Read(string path) => JsonLines.Read(path, Parse);

    internal static PreferenceExample Parse(string file, int line, JsonElement row)
    {
        var chosen = Field(file, line, row, "chosen");
        var rejected = Field(file, line, row, "rejected");
        PreferenceExample example;
        if (row.TryGetProperty("prompt", out var prompt))
        {
            // TRL: the prompt separately; messages or plain strings.
            example = new PreferenceExample(Conversation(file, line, prompt, "prompt"), Final(file, line, chosen, "chosen"), Final(file, line, rejected, "rejected"), line);
        }
        else
        {
            if (chosen.ValueKind != JsonValueKind.String || rejected.ValueKind != JsonValueKind.String)
                throw new DatasetException(file, line, "without 'prompt', 'chosen' and 'rejected' must be HH-RLHF strings");
            var (p1, c) = SplitHh(file, line, chosen.GetString()!, "chosen");
            var (p2, r) = SplitHh(file, line, rejected.GetString()!, "rejected");
            if (p1 != p2) throw new DatasetException(file, line, "'chosen' and 'rejected' continue different conversations");
            example = new PreferenceExample(p1, c, r, line);
        }
        if (string.IsNullOrWhiteSpace(example.Chosen) || string.IsNullOrWhiteSpace(example.Rejected))
            throw new DatasetException(file, line, "a response is empty");
        if (example.Chosen == example.Rejected) throw new DatasetException(file, line, "the two responses are identical: there is nothing to compare");
        return example;
    }

    /// <summary>HH-RLHF text: the prompt is everything up to the last assistant turn, the response what follows.</summary>
    internal static (string Prompt, string Response) SplitHh(string file, int line, string text, string field)
    {
        var cut = text.LastIndexOf(AssistantTurn, StringComparison.Ordinal);
        if (cut < 0 || !text.Contains("\n\nHuman:", StringComparison.Ordinal))
            throw new DatasetException(file, line, $"'{field}' cannot be split: no \"\\n\\nHuman:\" ... \"\\n\\nAssistant:\" conversation");
        return (text[..(cut + AssistantTurn.Length)], text[(cut + AssistantTurn.Length)..].Trim());
    }

    private static JsonElement Field(string file, int line, JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Array
            ? v
            : throw new DatasetException(file, line, $"missing field '{name}' (a string or a list of messages)");

    internal static string Conversation(string file, int line, JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
        if (value.ValueKind != JsonValueKind.Array) throw new DatasetException(file, line, $"'{field}' must be a string or a list of messages");
        var sb = new StringBuilder();
        foreach (var m in value.EnumerateArray())
        {
            if (!m.TryGetProperty("role", out var role) || !m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new DatasetException(file, line, $"'{field}' has a message without 'role' and 'content'");
            var who = role.GetString() switch
            {
                "user" => "Human",
                "assistant" => "Assistant",
                "system" => "System",
                var other => throw new DatasetException(file, line, $"'{field}' has a message with unknown role '{other}'"),
            };
            sb.Append("\n\n").Append(who).Append(": ").Append(content.GetString());
        }
        return sb.Append(AssistantTurn).ToString();
    }

    /// <summary>A TRL response: a string, or a list of messages whose last one is the assistant's answer.</summary>
    private static string Final(string file, int line, JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!.Trim();
        var last = value.EnumerateArray().LastOrDefault();
        if (last.ValueKind != JsonValueKind.Object || !last.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String
            || !last.TryGetProperty("role", out var role) || role.GetString() != "assistant")
            throw new DatasetException(file, line, $"'{field}' must end with an assistant message");
        return content.GetString()!.Trim();
    }
}
