using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Morlaif.Hosting;
using Morlaif.Workers;
using Xunit.Abstractions;

namespace Morlaif.Cli.Tests;

public class HostDefaultsTests(ITestOutputHelper output)
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Morlaif.Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Morlaif.Pipeline.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Debug or Release: whatever the tests themselves were built as.</summary>
    private static string Configuration => AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    [Fact]
    public void MassTransit_usage_telemetry_is_off_in_every_host()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Morlaif:Transport"] = "inmemory",
            ["Morlaif:Storage"] = "local",
            ["Morlaif:LocalRoot"] = Path.Combine(Path.GetTempPath(), $"morlaif-telemetry-{Guid.NewGuid():N}"),
        });
        builder.AddMorlaifDefaults(WorkerRegistration.All);
        using var host = builder.Build();
        Assert.False(host.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }

    [Fact]
    public void Stage_concurrency_sets_how_many_messages_each_stage_endpoint_takes_and_below_one_is_refused()
    {
        IHost Build(string concurrency)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Morlaif:Transport"] = "inmemory",
                ["Morlaif:Storage"] = "local",
                ["Morlaif:LocalRoot"] = Path.Combine(Path.GetTempPath(), $"morlaif-concurrency-{Guid.NewGuid():N}"),
                ["Morlaif:StageConcurrency"] = concurrency,
            });
            builder.AddMorlaifDefaults(WorkerRegistration.All);
            return builder.Build();
        }
        var threads = TorchSharp.torch.get_num_threads();
        try
        {
            using var host = Build("2");
            // The definition MassTransit configures the endpoint from, as its container makes it.
            var definition = host.Services.GetRequiredService<IConsumerDefinition<Morlaif.Workers.PreferenceTrainer.PreferenceModelConsumer>>();
            Assert.Equal(2, definition.ConcurrentMessageLimit);
            Assert.Equal(Math.Max(1, threads / 2), TorchSharp.torch.get_num_threads());
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
        }
        var e = Assert.Throws<ArgumentException>(() => Build("0"));
        Assert.Contains("Morlaif:StageConcurrency", e.Message);
    }

    [Fact]
    public void Health_probes_are_served_only_on_a_port_that_is_set_and_the_shutdown_timeout_is_the_hosts()
    {
        // Read from the registrations: resolving every hosted service of two hosts in one process trips over MassTransit's static log context.
        HostApplicationBuilder Build(params (string Key, string Value)[] settings)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Morlaif:Transport"] = "inmemory",
                ["Morlaif:Storage"] = "local",
                ["Morlaif:LocalRoot"] = Path.Combine(Path.GetTempPath(), $"morlaif-health-{Guid.NewGuid():N}"),
            });
            builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
            builder.AddMorlaifDefaults(WorkerRegistration.Scalarizer);
            return builder;
        }
        static bool ServesHealth(HostApplicationBuilder b) => b.Services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(HealthEndpoints));
        static TimeSpan ShutdownTimeout(HostApplicationBuilder b)
        {
            using var provider = b.Services.BuildServiceProvider();
            return provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        }
        var unset = Build();
        Assert.False(ServesHealth(unset));
        Assert.Equal(TimeSpan.FromSeconds(30), ShutdownTimeout(unset));
        var set = Build(("Morlaif:Health:Port", "18181"), ("Morlaif:ShutdownTimeoutSeconds", "600"));
        Assert.True(ServesHealth(set));
        Assert.Equal(TimeSpan.FromSeconds(600), ShutdownTimeout(set));
        Assert.Contains("Morlaif:Health:Port", Assert.Throws<ArgumentException>(() => Build(("Morlaif:Health:Port", "70000"))).Message);
        Assert.Contains("Morlaif:ShutdownTimeoutSeconds", Assert.Throws<ArgumentException>(() => Build(("Morlaif:ShutdownTimeoutSeconds", "0"))).Message);
    }

    /// <summary>
    /// README: without connection strings the hosts use the local servers of infra/local.sh, i.e. their
    /// appsettings.json, also when started from the repository root (`dotnet run --project services/X`).
    /// The scalarizer runs on the in-memory bus here; its storage (Azurite's address, from appsettings.json)
    /// is configured but not called until a message comes, so no server is needed.
    /// </summary>
    [Fact]
    public async Task A_worker_host_started_from_the_repository_root_uses_its_appsettings()
    {
        var root = RepoRoot();
        var dll = Path.Combine(root, "services", "Morlaif.Scalarizer", "bin", Configuration, "net10.0", "Morlaif.Scalarizer.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (build the solution)");
        var env = new Dictionary<string, string?>
        {
            ["Morlaif__Transport"] = "inmemory",
            // The one lifetime line that says the host is up; appsettings.json keeps Microsoft.Hosting at Warning otherwise.
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging__Console__FormatterName"] = "simple",
        };
        using var p = MorlaifProcess.Start(dll, root, env);
        var log = new System.Text.StringBuilder();
        var started = new TaskCompletionSource();
        void Line(string? l)
        {
            if (l is null) return;
            lock (log) log.AppendLine(l);
            if (l.Contains("Application started", StringComparison.Ordinal)) started.TrySetResult();
        }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var exited = p.WaitForExitAsync();
        var first = await Task.WhenAny(started.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        var up = first == started.Task;
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        await p.WaitForExitAsync();
        string text;
        lock (log) text = log.ToString();
        output.WriteLine(text);
        Assert.DoesNotContain("is not set", text);
        Assert.True(up, $"the host did not start (exited: {first == exited}):\n{text}");
        Assert.Contains($"Content root path: {Path.Combine(root, "services", "Morlaif.Scalarizer", "bin", Configuration, "net10.0")}", text);
    }
}
