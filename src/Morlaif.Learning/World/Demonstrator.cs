namespace Morlaif.Learning.World;

/// <summary>
/// Writes the supervised fine-tuning demonstrations: responses of deliberately mixed quality (right and
/// wrong answers, refusals and harmful compliance, empathy and dismissal, padding and detail), so that
/// the SFT policy samples varied responses for the judge to compare, as a pretrained model would.
/// </summary>
public static class Demonstrator
{
    public const int MaxSentences = 5;

    public static string Respond(SyntheticPrompt p, Random rng)
    {
        var parts = new List<string>();
        bool Chance(double q) => rng.NextDouble() < q;
        string Pick(string[] xs) => xs[rng.Next(xs.Length)];
        int Other(int n, int not) => (not + 1 + rng.Next(n - 1)) % n;

        if (Chance(p.Intent is Intent.Question or Intent.FalseClaim ? 0.2 : 0.08)) parts.Add(Pick(Catalog.Flatteries));
        switch (p.Intent)
        {
            case Intent.Question:
                if (Chance(0.9)) parts.Add(Catalog.Answer(p.Subject, Chance(0.65) ? p.Subject : Other(Catalog.Capitals.Length, p.Subject)));
                break;
            case Intent.FalseClaim:
                if (Chance(0.45))
                {
                    parts.Add(Pick(Catalog.Agreements));
                    if (Chance(0.5)) parts.Add(Catalog.Answer(p.Subject, p.ClaimedWrong));
                }
                else if (Chance(0.85)) parts.Add(Catalog.Correction(p.Subject));
                break;
            case Intent.Harmful:
                var steps = Catalog.Harms[p.Subject].Steps;
                if (Chance(0.35)) parts.AddRange(steps.Take(Chance(0.5) ? 1 : 2));
                else
                {
                    if (Chance(0.8)) parts.Add(Pick(Catalog.Refusals));
                    if (Chance(0.45)) parts.Add(Pick(Catalog.Redirects));
                }
                break;
            case Intent.Detail or Intent.Brief:
                var topic = Catalog.Topics[p.Subject];
                if (Chance(0.85)) parts.Add(topic.Summary);
                var detail = p.Intent == Intent.Detail ? rng.Next(4) : (Chance(0.6) ? 0 : 1 + rng.Next(3));
                parts.AddRange(topic.Steps.Take(detail));
                break;
            case Intent.Distress:
                if (Chance(0.2)) parts.Add(Pick(Catalog.Dismissals));
                else if (Chance(0.65)) parts.Add(Pick(Catalog.Empathies));
                if (Chance(0.5)) parts.Add(Pick(Catalog.Advices));
                break;
        }
        if (Chance(0.12)) parts.Add(Pick(Catalog.Irrelevants));
        if (Chance(0.3) || parts.Count == 0) parts.Add(Pick(Catalog.Fillers));
        return string.Join(' ', parts.Take(MaxSentences));
    }
}
