using Microsoft.Extensions.DependencyInjection;
using Morlaif.Storage;
using Morlaif.Workers;
using Morlaif.Workers.Text;

namespace Morlaif.Cli;

/// <summary>
/// morlaif export RUNID --arm morlaif|baseline --out DIR: a text run's trained policy as a Hugging Face folder;
/// --pm QUESTION --out DIR: a PM as its PEFT adapter folder. Reads storage only (no broker).
/// </summary>
public static class ExportCommand
{
    public static readonly string[] Options = ["arm", "pm", "out", "storage", "store"];

    public static async Task<int> Execute(CliArguments args)
    {
        var runId = args.RunId();
        var outDir = args.Get("out") ?? throw new UsageException("option '--out' is required");
        var (arm, pm) = (args.Get("arm"), args.Get("pm"));
        if ((arm is null) == (pm is null)) throw new UsageException("give one of '--arm morlaif|baseline' (the policy) or '--pm QUESTION' (a preference model)");
        var overrides = CliHost.Overrides(args);
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
            throw new UsageException(e.Message);
        }
        Console.WriteLine($"wrote {Path.GetFullPath(outDir)}");
        return 0;
    }
}
