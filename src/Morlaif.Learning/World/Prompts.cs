namespace Morlaif.Learning.World;

/// <summary>Draws templated prompts of every intent, in equal shares.</summary>
public static class Prompts
{
    public static SyntheticPrompt Sample(Random rng)
    {
        var intent = (Intent)rng.Next(Enum.GetValues<Intent>().Length);
        string Pick(string[] templates) => templates[rng.Next(templates.Length)];
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

    public static List<SyntheticPrompt> Sample(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => Sample(rng)).ToList();
}
