using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Morlaif.Hosting;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Cli.Tests;

/// <summary>
/// The broker answered the up-front look but publishing RunStarted then fails (it went away in between):
/// the run's manifest and config, already written, are taken back, and the error names the broker.
/// </summary>
public class StartCleanupTests
{
    /// <summary>An IBus whose every call fails as a broker that has just gone away would.</summary>
    public class GoneBus : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new RabbitMqConnectionException("Connection refused", new System.Net.Sockets.SocketException(111));
    }

    [Fact]
    public async Task A_start_whose_publish_fails_leaves_no_manifest_and_no_config()
    {
        var store = Path.Combine(Path.GetTempPath(), $"morlaif-cli-cleanup-{Guid.NewGuid():N}");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rabbitmq"] = "amqp://morlaif:secret-pw@127.0.0.1:5999/",
            ["Morlaif:Storage"] = "local",
        });
        builder.Services.AddSingleton<IArtifactStore>(new LocalArtifactStore(store));
        builder.Services.AddSingleton<IManifestStore>(new LocalManifestStore(store));
        builder.Services.AddSingleton(DispatchProxy.Create<IBus, GoneBus>());
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<ServerUnreachableException>(() => CliServers.StartRunAsync(host, new RunConfig(), "cleanup-test-run"));

        Assert.Equal("RabbitMQ at 127.0.0.1:5999 is unreachable: Connection refused; run cleanup-test-run was not started and its manifest was removed", e.Message);
        Assert.Null(await new LocalManifestStore(store).ReadAsync("cleanup-test-run"));
        Assert.Empty(Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories));
    }
}
