using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;
using Morlaif.Workers.Text;

namespace Morlaif.Cli;

/// <summary>
/// morlaif export RUNID --arm morlaif|baseline --out DIR: a text run's trained policy as a Hugging Face folder;
/// --pm QUESTION --out DIR: a PM as its PEFT adapter folder. Reads storage only (no broker).
/// </summary>
public static class ExportCommand
{
    private static readonly Argument<string> RunId = CliOptions.RunId();
    private static readonly Option<string?> Arm =
        new("--arm") { Description = "the trained policy of this arm (morlaif, baseline, or another of the run's arms), as a Hugging Face folder", HelpName = "ARM" };
    private static readonly Option<string?> Pm = new("--pm") { Description = "this question's PM, as its PEFT adapter folder", HelpName = "QUESTION" };
    private static readonly Option<string?> Out = CliOptions.Out("the folder to write", required: true);
    private static readonly ServerOptions Servers = new(transport: false);

    public static Command Create() => CliOptions.Command("export",
        "A text run's trained policy as a Hugging Face folder (--arm), or one of its PMs as a PEFT adapter folder (--pm). Reads storage only.",
        "morlaif export 20261206-103243-s1-50be5d --arm morlaif --out policy", [RunId, Arm, Pm, Out, .. Servers.Symbols], (r, _) => Execute(r));

    private static async Task<int> Execute(ParseResult r)
    {
        var runId = r.GetValue(RunId)!;
        var outDir = r.GetValue(Out)!;
        var (arm, pm) = (r.GetValue(Arm), r.GetValue(Pm));
        if ((arm is null) == (pm is null)) throw new UsageException("give one of '--arm morlaif|baseline' (the policy) or '--pm QUESTION' (a preference model)");
        var overrides = Servers.Overrides(r);
        overrides["Morlaif:Transport"] = "inmemory"; // export reads storage only
        using var host = CliHost.Build(overrides);
        await CliServers.RequireAsync(host);
        var artifacts = host.Services.GetRequiredService<RunArtifacts>();
        var text = host.Services.GetRequiredService<TextStages>();
        var manifest = await artifacts.ManifestAsync(runId, CancellationToken.None);
        try
        {
            if (arm is not null) await TextExport.PolicyAsync(text, artifacts, manifest, arm, outDir, CancellationToken.None);
            else await TextExport.PreferenceModelAsync(text, artifacts, manifest, pm!, outDir, CancellationToken.None);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UsageException(arm is not null && e is ArgumentException ? $"option '--arm': {e.Message}" : e.Message);
        }
        Console.WriteLine($"wrote {Path.GetFullPath(outDir)}");
        return 0;
    }
}
