using System.Diagnostics;
using System.Text;

namespace Morlaif.TestServers;

/// <summary>Worker hosts and the CLI as child processes, from the solution's own build output.</summary>
public sealed class Processes : IDisposable
{
    private readonly List<(string Name, Process Process, StringBuilder Output)> _running = [];
    private readonly Dictionary<string, string> _env;

    public Processes(Dictionary<string, string> env) => _env = env;

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>An environment variable for every process started from now on that is not given its own environment.</summary>
    public void SetEnvironment(string name, string value) => _env[name] = value;

    /// <summary>Debug or Release: whatever the tests themselves were built as.</summary>
    private static string Configuration => AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ServiceDll(string service) =>
        Path.Combine(RepoRoot, "services", service, "bin", Configuration, "net10.0", $"{service}.dll");

    public static string CliDll => Path.Combine(RepoRoot, "src", "Morlaif.Cli", "bin", Configuration, "net10.0", "morlaif.dll");

    /// <param name="env">this worker's environment instead of the shared one</param>
    public Process StartWorker(string service, string? name = null, Dictionary<string, string>? env = null)
    {
        var output = new StringBuilder();
        var p = Start(ServiceDll(service), [], output, false, out _, env);
        lock (_running) _running.Add((name ?? service, p, output));
        return p;
    }

    /// <summary>Runs the CLI to completion; returns exit code and output.</summary>
    public (int ExitCode, string Stdout, string Stderr) Cli(params string[] args)
    {
        var stdout = new StringBuilder();
        using var p = Start(CliDll, args, stdout, separateStderr: true, out var stderr);
        // A guard against a hung command, not a speed expectation: on a loaded machine a start has taken over 2 minutes.
        if (!p.WaitForExit(TimeSpan.FromMinutes(6))) p.Kill(true);
        p.WaitForExit();
        return (p.ExitCode, stdout.ToString(), stderr!.ToString());
    }

    /// <summary>`morlaif start --config <paramref name="configPath"/>`: the new run's id (alone on the last line).</summary>
    public string StartRun(string configPath)
    {
        var (exit, stdout, stderr) = Cli("start", "--config", configPath);
        if (exit != 0) throw new InvalidOperationException($"morlaif start failed ({exit}): {stderr}\n{stdout}");
        return stdout.Trim().Split('\n')[^1].Trim();
    }

    /// <summary>The worker processes started so far, by name.</summary>
    public IReadOnlyList<(string Name, Process Process)> Workers
    {
        get
        {
            lock (_running) return _running.Select(r => (r.Name, r.Process)).ToList();
        }
    }

    /// <summary>Every worker's output; the last 3000 characters of each unless <paramref name="full"/>.</summary>
    public string Logs(bool full = false)
    {
        var sb = new StringBuilder();
        lock (_running)
            foreach (var (name, _, output) in _running)
            {
                var text = output.ToString();
                sb.AppendLine($"--- {name} ---").AppendLine(text.Length > 3000 && !full ? text[^3000..] : text);
            }
        return sb.ToString();
    }

    /// <summary>
    /// Asks a worker to stop as an orchestrator does (SIGTERM, then SIGKILL after its grace period): the process is the
    /// worker itself (`dotnet X.dll` runs the app in the muxer's process), so the signal reaches the host's own handler.
    /// </summary>
    public static void Terminate(Process p)
    {
        if (kill(p.Id, SigTerm) != 0) throw new InvalidOperationException($"kill -TERM {p.Id} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    public string LogOf(Process p)
    {
        lock (_running) return _running.First(r => r.Process == p).Output.ToString();
    }

    private Process Start(string dll, string[] args, StringBuilder output, bool separateStderr, out StringBuilder? stderr,
        Dictionary<string, string>? env = null)
    {
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is not built; build the solution first");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? _env) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        var err = separateStderr ? new StringBuilder() : output;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (err) err.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        stderr = separateStderr ? err : null;
        return p;
    }

    public void Dispose()
    {
        lock (_running)
        {
            foreach (var (_, p, _) in _running)
            {
                try
                {
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                    p.WaitForExit(10_000);
                }
                catch (InvalidOperationException)
                {
                }
                p.Dispose();
            }
            _running.Clear(); // a second Dispose (a `using` after an explicit call) has nothing left to do
        }
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Morlaif.Pipeline.sln"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository root (Morlaif.Pipeline.sln) above the test binaries");
    }
}
