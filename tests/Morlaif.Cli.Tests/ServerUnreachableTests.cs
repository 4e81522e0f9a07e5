using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Morlaif.Cli.Tests;

/// <summary>
/// start, status, lineage and replay against servers that are not there (a loopback port nothing listens on):
/// one line naming the server and its address, exit 3, no stack trace, no credentials, and no manifest
/// for a run that was never published. Nothing here needs a real RabbitMQ or Azurite.
/// </summary>
public class ServerUnreachableTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private const string Password = "not-a-real-password-4711";

    // Azurite's published development account key (not a secret), so the connection string has a key to leak.
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static Dictionary<string, string?> Servers(int amqpPort, int blobPort) => new()
    {
        ["ConnectionStrings__rabbitmq"] = $"amqp://morlaif:{Password}@127.0.0.1:{amqpPort}/",
        ["ConnectionStrings__blobs"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevKey};BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;",
    };

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"morlaif-cli-down-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private (int Exit, string Line) Run(Dictionary<string, string?> env, params string[] args)
    {
        var (exit, stdout, stderr, elapsed) = MorlaifProcess.Run(env, Limit, args);
        output.WriteLine($"morlaif {string.Join(' ', args)}: exit {exit} after {elapsed.TotalSeconds:F1} s");
        output.WriteLine($"stderr: {stderr}");
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.DoesNotContain(Password, stderr + stdout);
        Assert.DoesNotContain(DevKey, stderr + stdout);
        Assert.DoesNotContain("AccountKey", stderr + stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{stderr}");
        return (exit, lines[0].Trim());
    }

    private static void AssertNamesBroker(int exit, string line, int port)
    {
        Assert.Equal(3, exit);
        Assert.StartsWith($"morlaif: RabbitMQ at 127.0.0.1:{port} is unreachable: ", line);
    }

    private static void AssertNamesStorage(int exit, string line, int port)
    {
        Assert.Equal(3, exit);
        Assert.StartsWith($"morlaif: blob storage at http://127.0.0.1:{port}/devstoreaccount1 is unreachable: ", line);
    }

    private static string[] Manifests(string dir) => Directory.EnumerateFiles(dir, "manifest.json", SearchOption.AllDirectories).ToArray();

    [Fact]
    public void Start_with_the_broker_down_names_it_and_records_no_run()
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var store = TempDir();
        var (exit, line) = Run(Servers(amqp, blobs), "start", "--storage", "local", "--store", store);
        AssertNamesBroker(exit, line, amqp);
        Assert.Empty(Manifests(store));
    }

    [Fact]
    public void Start_with_blob_storage_down_names_it()
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var (exit, line) = Run(Servers(amqp, blobs), "start");
        AssertNamesStorage(exit, line, blobs); // storage is looked at first: nothing is written before both answer
    }

    [Theory]
    [InlineData("status", "20260101-000000-s1-abcdef")]
    [InlineData("status")] // the list of runs
    [InlineData("lineage", "20260101-000000-s1-abcdef")]
    public void Status_and_lineage_with_blob_storage_down_name_it(params string[] args)
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var (exit, line) = Run(Servers(amqp, blobs), args);
        AssertNamesStorage(exit, line, blobs);
    }

    [Fact]
    public void Replay_with_blob_storage_down_names_it()
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var (exit, line) = Run(Servers(amqp, blobs), "replay", "20260101-000000-s1-abcdef", "--stage", "sft");
        AssertNamesStorage(exit, line, blobs);
    }

    [Fact]
    public void Replay_with_the_broker_down_names_it_before_touching_the_manifest()
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var store = TempDir();
        var (exit, line) = Run(Servers(amqp, blobs), "replay", "20260101-000000-s1-abcdef", "--stage", "sft", "--storage", "local", "--store", store);
        AssertNamesBroker(exit, line, amqp);
    }

    [Fact]
    public void A_rabbitmq_scheme_address_is_named_the_same_way()
    {
        var (amqp, blobs) = (ClosedPort(), ClosedPort());
        var env = Servers(amqp, blobs);
        env["ConnectionStrings__rabbitmq"] = $"rabbitmq://morlaif:{Password}@127.0.0.1:{amqp}/";
        var (exit, line) = Run(env, "start", "--storage", "local", "--store", TempDir());
        AssertNamesBroker(exit, line, amqp);
    }
}
