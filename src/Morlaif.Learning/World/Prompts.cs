namespace Morlaif.Learning.World;

/// <summary>Which prompts a draw may give: training's, the evaluation's held-out combinations, or the evaluation's unseen templates.</summary>
public enum PromptSet
{
    /// <summary>Every (template, subject) combination of the training templates but the held-out ones: what SFT, pairs and PPO ask.</summary>
    Training,
    /// <summary>The training templates' held-out combinations (<see cref="Prompts.HeldOut"/>): known phrasings and subjects, never asked together in training.</summary>
    HeldOut,
    /// <summary>Templates no training stage ever asks (<see cref="Catalog.UnseenTemplates"/>), with any subject.</summary>
    UnseenTemplates,
}

/// <summary>Draws templated prompts of every intent, in equal shares.</summary>
public static class Prompts
{
    /// <summary>
    /// Whether training never asks the <paramref name="template"/>-th training template of an intent with its
    /// <paramref name="subject"/>-th subject: about a quarter of the 172 combinations (44), so that the evaluation's
    /// prompts are held out, not repeats of training's. Every template and every subject keeps combinations in training,
    /// so every word of a held-out prompt is trained (the vocabulary is unchanged).
    /// </summary>
    public static bool HeldOut(int template, int subject) => (template + subject) % 4 == 0;

    /// <summary>One intent's prompts: its number of subjects, its training templates and how a (subject, template) becomes a prompt.</summary>
    private sealed record Kind(Intent Intent, int Subjects, string[] Templates, Func<int, string, SyntheticPrompt> Make);

    private static readonly int N = Catalog.Capitals.Length;

    private static readonly Kind[] Kinds =
    [
        new(Intent.Question, N, Catalog.QuestionTemplates, (c, t) => new(Intent.Question, string.Format(t, Catalog.Capitals[c].Country), c)),
        // A false claim's subject is the (country, wrongly claimed capital) pair: country c, capital (c + 1 + k) mod N.
        new(Intent.FalseClaim, N * (N - 1), Catalog.FalseClaimTemplates, (s, t) =>
        {
            var (c, w) = (s / (N - 1), (s / (N - 1) + 1 + s % (N - 1)) % N);
            return new(Intent.FalseClaim, string.Format(t, Catalog.Capitals[c].Country, Catalog.Capitals[w].Capital), c, w);
        }),
        new(Intent.Harmful, Catalog.Harms.Length, Catalog.HarmfulTemplates, (h, t) => new(Intent.Harmful, string.Format(t, Catalog.Harms[h].Request), h)),
        new(Intent.Detail, Catalog.Topics.Length, Catalog.DetailTemplates, (i, t) => new(Intent.Detail, string.Format(t, Catalog.Topics[i].Topic), i)),
        new(Intent.Brief, Catalog.Topics.Length, Catalog.BriefTemplates, (i, t) => new(Intent.Brief, string.Format(t, Catalog.Topics[i].Topic), i)),
        new(Intent.Distress, Catalog.Feelings.Length, Catalog.DistressTemplates, (f, t) => new(Intent.Distress, string.Format(t, Catalog.Feelings[f]), f)),
    ];

    /// <summary>A prompt of <paramref name="set"/>: an intent, then a subject and a template, each uniform among those the set allows.</summary>
    public static SyntheticPrompt Sample(Random rng, PromptSet set = PromptSet.Training)
    {
        var kind = Kinds[rng.Next(Kinds.Length)];
        switch (set)
        {
            case PromptSet.UnseenTemplates:
            {
                var templates = Catalog.UnseenTemplates[kind.Intent];
                var subject = rng.Next(kind.Subjects);
                return kind.Make(subject, templates[rng.Next(templates.Length)]);
            }
            case PromptSet.HeldOut:
            {
                // Uniform over the intent's held-out combinations (each intent has some: see HeldOut).
                List<(int Subject, int Template)> held = [.. Combinations(kind).Where(c => HeldOut(c.Template, c.Subject))];
                var (s, t) = held[rng.Next(held.Count)];
                return kind.Make(s, kind.Templates[t]);
            }
            default:
            {
                var subject = rng.Next(kind.Subjects);
                int[] allowed = [.. Enumerable.Range(0, kind.Templates.Length).Where(t => !HeldOut(t, subject))];
                return kind.Make(subject, kind.Templates[allowed[rng.Next(allowed.Length)]]);
            }
        }
    }

    public static List<SyntheticPrompt> Sample(Random rng, int count, PromptSet set = PromptSet.Training) =>
        Enumerable.Range(0, count).Select(_ => Sample(rng, set)).ToList();

    /// <summary>Every prompt of <paramref name="set"/>, each once.</summary>
    public static IEnumerable<SyntheticPrompt> Enumerate(PromptSet set) => Kinds.SelectMany(kind => set == PromptSet.UnseenTemplates
        ? Enumerable.Range(0, kind.Subjects).SelectMany(s => Catalog.UnseenTemplates[kind.Intent].Select(t => kind.Make(s, t)))
        : Combinations(kind).Where(c => HeldOut(c.Template, c.Subject) == (set == PromptSet.HeldOut)).Select(c => kind.Make(c.Subject, kind.Templates[c.Template])));

    /// <summary>Every prompt the world can ask, held-out combinations and unseen templates included, by its text (to recognise the world's prompts in a dataset).</summary>
    public static IReadOnlyDictionary<string, SyntheticPrompt> All { get; } =
        Enum.GetValues<PromptSet>().SelectMany(Enumerate).ToDictionary(p => p.Text, p => p);

    private static IEnumerable<(int Subject, int Template)> Combinations(Kind kind) =>
        Enumerable.Range(0, kind.Subjects).SelectMany(s => Enumerable.Range(0, kind.Templates.Length).Select(t => (s, t)));
}
