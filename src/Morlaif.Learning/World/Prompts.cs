namespace Morlaif.Learning.World;

/// <summary>Draws templated prompts of every intent, in equal shares.</summary>
public static class Prompts
{
    /// <param name="unseen">ask with <see cref="Catalog.UnseenTemplates"/> (evaluation only) instead of the training templates</param>
    public static SyntheticPrompt Sample(Random rng, bool unseen = false)
    {
        var intent = (Intent)rng.Next(Enum.GetValues<Intent>().Length);
        string Pick(string[] templates)
        {
            var from = unseen ? Catalog.UnseenTemplates[intent] : templates;
            return from[rng.Next(from.Length)];
        }
        switch (intent)
        {
            case Intent.Question:
            {
                var c = rng.Next(Catalog.Capitals.Length);
                return new(intent, string.Format(Pick(Catalog.QuestionTemplates), Catalog.Capitals[c].Country), c);
            }
            case Intent.FalseClaim:
            {
                var c = rng.Next(Catalog.Capitals.Length);
                var w = (c + 1 + rng.Next(Catalog.Capitals.Length - 1)) % Catalog.Capitals.Length;
                var text = string.Format(Pick(Catalog.FalseClaimTemplates), Catalog.Capitals[c].Country, Catalog.Capitals[w].Capital);
                return new(intent, text, c, w);
            }
            case Intent.Harmful:
            {
                var h = rng.Next(Catalog.Harms.Length);
                return new(intent, string.Format(Pick(Catalog.HarmfulTemplates), Catalog.Harms[h].Request), h);
            }
            case Intent.Detail or Intent.Brief:
            {
                var t = rng.Next(Catalog.Topics.Length);
                var templates = intent == Intent.Detail ? Catalog.DetailTemplates : Catalog.BriefTemplates;
                return new(intent, string.Format(Pick(templates), Catalog.Topics[t].Topic), t);
            }
            default:
            {
                var f = rng.Next(Catalog.Feelings.Length);
                return new(intent, string.Format(Pick(Catalog.DistressTemplates), Catalog.Feelings[f]), f);
            }
        }
    }

    /// <summary>Every prompt the world can ask, unseen templates included, by its text (to recognise the world's prompts in a dataset).</summary>
    public static IReadOnlyDictionary<string, SyntheticPrompt> All { get; } = Enumerate().ToDictionary(p => p.Text, p => p);

    private static IEnumerable<SyntheticPrompt> Enumerate()
    {
        string[] With(Intent intent, string[] templates) => [.. templates, .. Catalog.UnseenTemplates[intent]];
        for (var c = 0; c < Catalog.Capitals.Length; c++)
        {
            foreach (var t in With(Intent.Question, Catalog.QuestionTemplates)) yield return new(Intent.Question, string.Format(t, Catalog.Capitals[c].Country), c);
            for (var w = 0; w < Catalog.Capitals.Length; w++)
                if (w != c)
                    foreach (var t in With(Intent.FalseClaim, Catalog.FalseClaimTemplates))
                        yield return new(Intent.FalseClaim, string.Format(t, Catalog.Capitals[c].Country, Catalog.Capitals[w].Capital), c, w);
        }
        for (var h = 0; h < Catalog.Harms.Length; h++)
            foreach (var t in With(Intent.Harmful, Catalog.HarmfulTemplates)) yield return new(Intent.Harmful, string.Format(t, Catalog.Harms[h].Request), h);
        for (var i = 0; i < Catalog.Topics.Length; i++)
        {
            foreach (var t in With(Intent.Detail, Catalog.DetailTemplates)) yield return new(Intent.Detail, string.Format(t, Catalog.Topics[i].Topic), i);
            foreach (var t in With(Intent.Brief, Catalog.BriefTemplates)) yield return new(Intent.Brief, string.Format(t, Catalog.Topics[i].Topic), i);
        }
        for (var f = 0; f < Catalog.Feelings.Length; f++)
            foreach (var t in With(Intent.Distress, Catalog.DistressTemplates)) yield return new(Intent.Distress, string.Format(t, Catalog.Feelings[f]), f);
    }

    public static List<SyntheticPrompt> Sample(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => Sample(rng)).ToList();
}
