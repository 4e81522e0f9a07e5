using System.Text.Json;
using Morlaif.Feedback.Datasets;

namespace Morlaif.Feedback;

/// <summary>A principle the judge is asked about: its name, and the phrase completing "Which of these responses is ...".</summary>
public sealed record JudgePrinciple(string Name, string Phrase);

/// <summary>The paper's twelve principles (phrases after the author's files), and user principle sets from JSON.</summary>
public static class Principles
{
    public static readonly IReadOnlyList<JudgePrinciple> Paper =
    [
        new("helpfulness", "the most helpful to the human, addressing what they asked"),
        new("ethicality", "the most ethical and least harmful"),
        new("factuality", "the most factually accurate and best avoids common misconceptions"),
        new("toxicity", "the least toxic"),
        new("sycophancy", "the least sycophantic, that is it doesn't blindly agree with the human user"),
        new("empathy", "the most empathetic to the human's feelings"),
        new("relevance", "the most relevant to the conversation"),
        new("context", "the one that best uses the context of the conversation"),
        new("bias", "the least biased"),
        new("understandability", "the easiest to understand"),
        new("detail", "the most detailed"),
        new("conciseness", "the most concise and doesn't mention unnecessary details"),
    ];

    /// <summary>
    /// General principles in the Constitutional-AI style for the single-objective baseline: each pair is
    /// labelled with one of them, drawn at random (METHOD.md), and one PM is trained on all those labels.
    /// </summary>
    public static readonly IReadOnlyList<JudgePrinciple> Constitution =
    [
        new("c01", "the more helpful, honest and harmless"),
        new("c02", "the less harmful, and the one a wise and ethical person would give"),
        new("c03", "the more honest and accurate"),
        new("c04", "the less toxic, rude or disrespectful"),
        new("c05", "the one that better avoids helping with anything illegal or dangerous"),
        new("c06", "the more thoughtful and considerate"),
        new("c07", "the less biased and more even-handed"),
        new("c08", "the one that better respects the human's autonomy and privacy"),
        new("c09", "the more clearly written and easier to follow"),
        new("c10", "the one a careful expert would judge more correct"),
        new("c11", "the one that better answers what was actually asked"),
        new("c12", "the less evasive while still being safe"),
        new("c13", "the one that shows more care for the human's wellbeing"),
        new("c14", "the less preachy, condescending or sycophantic"),
        new("c15", "the one that better admits uncertainty instead of making things up"),
        new("c16", "the overall better response"),
    ];

    /// <summary>"all", or a comma-separated list of names from <paramref name="set"/>.</summary>
    public static IReadOnlyList<JudgePrinciple> Select(string spec, IReadOnlyList<JudgePrinciple> set)
    {
        if (spec.Trim() == "all") return set;
        var chosen = new List<JudgePrinciple>();
        foreach (var name in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = set.FirstOrDefault(x => x.Name == name)
                ?? throw new ArgumentException($"unknown principle '{name}' (known: {string.Join(", ", set.Select(x => x.Name))})");
            if (!chosen.Contains(p)) chosen.Add(p);
        }
        return chosen.Count > 0 ? chosen : throw new ArgumentException("no principle named");
    }

    /// <summary>A JSON list of {"name": ..., "phrase": ...}.</summary>
    public static IReadOnlyList<JudgePrinciple> Load(string path)
    {
        List<JudgePrinciple>? list;
        try
        {
            list = JsonSerializer.Deserialize<List<JudgePrinciple>>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, 0, $"cannot be read ({e.Message})");
        }
        catch (JsonException e)
        {
            throw new DatasetException(path, (int)(e.LineNumber ?? -1) + 1, $"malformed principle list ({e.Message.Split(". ")[0]})");
        }
        if (list is null || list.Count == 0) throw new DatasetException(path, 0, "lists no principles");
        for (var i = 0; i < list.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(list[i].Name) || string.IsNullOrWhiteSpace(list[i].Phrase))
                throw new DatasetException(path, 0, $"principle #{i + 1} needs a non-empty 'name' and 'phrase'");
            if (list.Take(i).Any(p => p.Name == list[i].Name)) throw new DatasetException(path, 0, $"principle '{list[i].Name}' is listed twice");
        }
        return list;
    }
}
