using System.Diagnostics;

namespace Morlaif.Integration.Tests;

/// <summary>
/// No Docker engine runs here, so docker-compose.yml is checked with dclint (the compose schema and its
/// rules; tests/run.sh installs it) and for what the project promises in it.
/// </summary>
public class ComposeFileTests
{
    private static readonly string ComposeFile = Path.Combine(Processes.RepoRoot, "docker-compose.yml");
    private static readonly string[] Workers = ["Labeller", "PreferenceTrainer", "Scalarizer", "PpoLearner", "Evaluator"];

    private static (int Exit, string Output) Dclint(string file)
    {
        var dclint = Path.Combine(Processes.RepoRoot, ".infra", "node", "node_modules", ".bin", "dclint");
        Assert.True(File.Exists(dclint), $"{dclint} is missing: tests/run.sh installs it");
        var psi = new ProcessStartInfo(dclint) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    [Fact]
    public void The_compose_file_passes_the_schema_and_lint_rules()
    {
        var (exit, output) = Dclint(ComposeFile);
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("warning", output);
    }

    [Fact]
    public void The_linter_does_reject_a_broken_compose_file()
    {
        // Proves the check above can fail: the same file with an unknown key under deploy.
        var broken = Path.Combine(Path.GetTempPath(), $"compose-{Guid.NewGuid():N}.yml");
        File.WriteAllText(broken, File.ReadAllText(ComposeFile).Replace("replicas: 2", "replicaz: 2"));
        try
        {
            var (exit, output) = Dclint(broken);
            Assert.NotEqual(0, exit);
            Assert.Contains("deploy", output);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void Every_worker_has_a_service_built_for_it_and_the_trainer_is_replicated()
    {
        var text = File.ReadAllText(ComposeFile);
        Assert.True(File.Exists(Path.Combine(Processes.RepoRoot, "services", "Dockerfile")));
        foreach (var w in Workers)
        {
            Assert.Contains($"WORKER: Morlaif.{w}", text);
            Assert.True(File.Exists(Path.Combine(Processes.RepoRoot, "services", $"Morlaif.{w}", $"Morlaif.{w}.csproj")), w);
        }
        Assert.Contains("replicas: 2", text);
    }

    [Fact]
    public void Every_worker_serves_its_probes_and_compose_waits_on_readiness_and_on_the_step_in_hand()
    {
        var text = File.ReadAllText(ComposeFile);
        // The anchor every worker service merges (<<: *worker): the health port, the check against /readyz on it, and a
        // stop grace period longer than the host's own shutdown timeout.
        var worker = text[text.IndexOf("x-worker:", StringComparison.Ordinal)..text.IndexOf("\nname:", StringComparison.Ordinal)];
        Assert.Contains("Morlaif__Health__Port: 8080", worker);
        Assert.Contains("/dev/tcp/127.0.0.1/8080", worker);
        Assert.Contains("GET /readyz", worker);
        var timeout = int.Parse(System.Text.RegularExpressions.Regex.Match(worker, @"Morlaif__ShutdownTimeoutSeconds: (\d+)").Groups[1].Value);
        var grace = System.Text.RegularExpressions.Regex.Match(worker, @"stop_grace_period: (\d+)m");
        Assert.True(grace.Success && int.Parse(grace.Groups[1].Value) * 60 > timeout, "stop_grace_period must outlast Morlaif__ShutdownTimeoutSeconds");
        foreach (var service in new[] { "evaluator", "labeller", "ppo-learner", "preference-trainer", "scalarizer" })
            Assert.Matches($@"\n  {service}:\n(    .*\n)*?    <<: \*worker", text);
    }

    [Fact]
    public void No_default_broker_credentials_are_shipped()
    {
        var text = File.ReadAllText(ComposeFile);
        Assert.DoesNotContain("guest", text);
        Assert.Contains("${RABBITMQ_PASSWORD:?", text); // compose refuses to start without a password from the environment
        Assert.DoesNotContain("0.0.0.0:", text); // published ports stay on loopback
    }

    [Fact]
    public void The_telemetry_profile_adds_a_dashboard_and_the_workers_export_only_when_an_endpoint_is_given()
    {
        var text = File.ReadAllText(ComposeFile);
        // The dashboard is the .NET Aspire dashboard's image, started only with `--profile telemetry`.
        Assert.Matches(@"(?ms)^  dashboard:\n    image: mcr\.microsoft\.com/dotnet/aspire-dashboard:[0-9.]+\n.*?profiles: \[ ""telemetry"" \]", text);
        // Empty by default: Telemetry registers nothing without an endpoint, so plain `docker compose up` exports nothing.
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT: ${OTEL_EXPORTER_OTLP_ENDPOINT:-}", text);
    }
}
