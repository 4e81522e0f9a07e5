using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;
using Spectre.Console;

namespace Morlaif.Cli;

/// <summary>
/// morlaif lineage RUNID [--json]: where the run's PMs and policies came from, as a tree down to the labels, the judge,
/// the config and the run's inputs; each artifact with its hash, size, record and attempt (<see cref="RunLineage"/>).
/// Reads storage only (no broker).
/// </summary>
public static class LineageCommand
{
    private static readonly Argument<string> RunId = CliOptions.RunId();
    private static readonly Option<bool> Json = CliOptions.Json("the lineage as JSON: the run's records with their artifacts and inputs, and each PM's and policy's lineage");
    private static readonly ServerOptions Servers = new(transport: false);

    /// <summary>How much of a SHA-256 the tree shows (the JSON has all of it).</summary>
    public const int ShortHash = 12;

    public static Command Create() => CliOptions.Command("lineage",
        "Where each PM and policy of a run came from: a tree down to its labels, the judge, the config and the run's inputs, with every artifact's hash, size, record and attempt. Reads storage only.",
        "morlaif lineage 20261206-103243-s1-50be5d --json", [RunId, Json, .. Servers.Symbols], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        var runId = r.GetValue(RunId)!;
        var overrides = Servers.Overrides(r);
        overrides["Morlaif:Transport"] = "inmemory"; // lineage reads storage only
        using var host = CliHost.Build(overrides);
        await CliServers.RequireAsync(host);
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var manifest = await artifacts.ManifestAsync(runId, CancellationToken.None);
        var lineage = RunLineage.Of(manifest, (await artifacts.ContextAsync(manifest, CancellationToken.None)).Config);

        if (r.GetValue(Json))
        {
            Console.WriteLine(JsonSerializer.Serialize(lineage, RunManifest.Json));
            return 0;
        }
        AnsiConsole.Write(Tree(lineage));
        return 0;
    }

    /// <summary>
    /// The run, its config and inputs, then each PM and each policy with what it was made from. A record is drawn with
    /// its inputs once; where it comes again it is named with "(above)", so shared parts (the SFT record, the
    /// objective) do not repeat.
    /// </summary>
    public static Tree Tree(RunLineage lineage)
    {
        var tree = new Tree(new Markup($"run [bold]{Markup.Escape(lineage.RunId)}[/]: {lineage.State}, task {Markup.Escape(lineage.Task)}, seed {lineage.Seed}, created {lineage.CreatedAt.UtcDateTime:u}"));
        tree.AddNode(new Markup($"{RunLineage.ConfigNode}: {Artifact(lineage.Config)}; judge {Markup.Escape(Judge(lineage.Judge))}"));
        foreach (var input in lineage.Inputs) tree.AddNode(new Markup($"{RunLineage.InputNode(Markup.Escape(input.Name))}: {Artifact(input)}"));

        var shown = new HashSet<string>(lineage.Inputs.Select(i => RunLineage.InputNode(i.Name)).Prepend(RunLineage.ConfigNode), StringComparer.Ordinal);
        foreach (var group in lineage.Products.GroupBy(p => p.Kind))
        {
            var heading = tree.AddNode(new Markup(group.Key == RunLineage.Policy ? "[bold]policies[/]" : "[bold]preference models[/]"));
            foreach (var product in group)
                Add(heading, product.Record, $"{Markup.Escape(product.Kind)} [bold]{Markup.Escape(product.Name)}[/] = ", Labels(lineage, product));
        }
        return tree;

        void Add(IHasTreeNodes parent, string node, string prefix = "", string? summary = null)
        {
            if (!shown.Add(node))
            {
                var again = parent.AddNode(new Markup($"{prefix}[dim]{Markup.Escape(node)} (above)[/]"));
                if (summary is not null) again.AddNode(new Markup(summary));
                return;
            }
            var record = lineage.Record(node)!;
            var child = parent.AddNode(new Markup($"{prefix}{Describe(record)}"));
            if (summary is not null) child.AddNode(new Markup(summary));
            foreach (var input in record.MadeFrom) Add(child, input);
        }
    }

    /// <summary>
    /// What a product stands on, in one line: a PM, the labels (and their judge) in its lineage; a policy, its reward and the
    /// labels of the PMs that reward scores with ("reward morlaif (linear) on train-pm/helpfulness, ..., from the labels ...").
    /// </summary>
    private static string Labels(RunLineage lineage, LineageProduct product)
    {
        var sources = product.Reward is { } reward
            ? reward.PreferenceModels.SelectMany(pm => lineage.Products.FirstOrDefault(p => p.Record == pm)?.Lineage ?? []).Distinct()
            : product.Lineage;
        var labelled = sources.Select(lineage.Record).OfType<LineageRecord>().Where(r => r.Judge is not null).ToList();
        var labels = labelled.Count == 0 ? "no labels"
            : $"the labels {string.Join(", ", labelled.Select(r => r.Key))} (judge {string.Join("; ", labelled.Select(r => Judge(r.Judge!)).Distinct())})";
        var text = product.Reward is { } r
            ? $"reward {r.Kind}{(r.Scalarization is { } s ? $" ({s})" : "")} on {string.Join(", ", r.PreferenceModels)}, from {labels}"
            : $"made from {labels}";
        return $"[green]{Markup.Escape(text)}[/]";
    }

    private static string Describe(LineageRecord r)
    {
        var outputs = r.Outputs.Count == 0 ? "[yellow]no outputs yet[/]" : string.Join(", ", r.Outputs.Select(o => $"{Markup.Escape(o.Name)} {Artifact(o)}"));
        var state = r.State == StageState.Done ? "" : $" [yellow]{r.State}[/]";
        var attempts = $"attempt {r.Attempts.ToString(CultureInfo.InvariantCulture)}{(r.Recomputed > 0 ? $", recomputed {r.Recomputed}x" : "")}";
        var judge = r.Judge is { } j ? $"; judge {Markup.Escape(Judge(j))}" : "";
        return $"[blue]{Markup.Escape(r.Key)}[/]{state}: {outputs} ({attempts}){judge}";
    }

    private static string Artifact(LineageArtifact a) => $"{a.Sha256[..Math.Min(ShortHash, a.Sha256.Length)]} {Size(a.Length)}";

    /// <summary>"synthetic", "openai gpt-4o-mini at http://...": plain text (escape it for markup).</summary>
    private static string Judge(LineageJudge j) => string.Join(" ", new[] { j.Kind, j.Model, j.Endpoint is null ? null : $"at {j.Endpoint}" }.OfType<string>());

    /// <summary>812 B, 12.3 KiB, 4.5 MiB, 1.2 GiB.</summary>
    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
