using System.Diagnostics;

namespace Morlaif.Cli.Tests;

/// <summary>
/// Runs the real `morlaif` command as a child process: the CLI project's own build (its deps.json), not the copy next
/// to the tests, whose dependencies are resolved for the test project (with the test servers' ASP.NET framework).
/// </summary>
internal static class MorlaifProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        // A guard against a hung command, not a speed test: the test projects run side by side on two cores, where a
        // command that takes 7 s alone (the tiny experiment) took more than 2 minutes.
        var r = Run(new Dictionary<string, string?>(), TimeSpan.FromMinutes(6), args);
        return (r.ExitCode, r.Stdout, r.Stderr);
    }

    /// <param name="env">variables to set (null: remove); ConnectionStrings__* and Morlaif__* of the test's own environment are never passed on</param>
    /// <param name="limit">how long to wait before the process is killed and the call throws</param>
    public static (int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed) Run(IDictionary<string, string?> env, TimeSpan limit, params string[] args) =>
        RunDll(TestServers.Processes.CliDll, Path.GetTempPath(), env, limit, args);

    public static (int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed) RunDll(string dll, string workingDirectory,
        IDictionary<string, string?> env, TimeSpan limit, params string[] args)
    {
        using var p = Start(dll, workingDirectory, env, args);
        var clock = Stopwatch.StartNew();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(dll)} {string.Join(' ', args)} did not finish within {limit.TotalSeconds:0} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    public static Process Start(string dll, string workingDirectory, IDictionary<string, string?> env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var name in psi.Environment.Keys.ToList())
            if (name.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Morlaif__", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(name);
        foreach (var (name, value) in env)
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
