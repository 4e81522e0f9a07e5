using System.Diagnostics;

namespace Morlaif.Cli.Tests;

public class CompletionTests
{
    /// <summary>Completes a line in a real bash with the script `morlaif completion bash` prints.</summary>
    private static async Task<string[]> Complete(string line)
    {
        var (exit, script, stderr) = MorlaifProcess.Run("completion", "bash");
        Assert.True(exit == 0, stderr);
        // The script names the apphost beside the CLI's dll, the binary a user puts on the PATH.
        var file = Path.Combine(Directory.CreateTempSubdirectory("morlaif-completion-").FullName, "morlaif.bash");
        File.WriteAllText(file, script.Replace(Path.Combine(AppContext.BaseDirectory, "morlaif"), Path.ChangeExtension(TestServers.Processes.CliDll, null)));
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", $"source '{file}'; COMP_LINE='{line}'; COMP_POINT={line.Length}; _morlaif_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Bash_completes_commands_options_and_their_values_from_the_parser()
    {
        Assert.Equal(["replay", "run"], (await Complete("morlaif r")).Where(s => !s.StartsWith('-')).Order());
        Assert.Contains("--device", await Complete("morlaif run --dev"));
        Assert.Equal(["cpu", "cuda"], (await Complete("morlaif run --device ")).Order());
    }
}
