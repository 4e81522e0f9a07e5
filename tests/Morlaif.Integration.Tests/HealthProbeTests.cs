using System.Net;
using System.Text.Json;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The probes an orchestrator asks a real worker process: /healthz while it runs, /readyz only while it reaches the broker
/// and the store, with a body that names the check that fails and the server it cannot reach.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HealthProbeTests : DistributedTest
{
    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task A_worker_is_live_while_it_runs_and_ready_only_while_it_reaches_the_broker_and_the_store()
    {
        await using var storage = new FaultProxy(Servers.BlobPort);
        var port = FreePort();
        Run.Set("Morlaif__Health__Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var worker = Run.StartWorker("Morlaif.Scalarizer", blobPort: storage.Port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

        async Task<(HttpStatusCode Status, JsonElement Body)> Probe(string path)
        {
            using var response = await http.GetAsync(path);
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default);
        }

        // Polls until the probe answers as awaited: the process starts, connects, notices an outage in its own time.
        async Task<JsonElement> Await(string path, HttpStatusCode status)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            var last = "no answer";
            while (DateTime.UtcNow < deadline)
            {
                Assert.False(worker.HasExited, $"the worker exited\n{Run.Processes.Logs()}");
                try
                {
                    var (s, body) = await Probe(path);
                    if (s == status) return body;
                    last = $"{(int)s} {body}";
                }
                catch (HttpRequestException e)
                {
                    last = e.Message;
                }
                await Task.Delay(200);
            }
            Assert.Fail($"{path} did not answer {(int)status}; last: {last}\n{Run.Processes.Logs()}");
            return default;
        }

        await Await("/healthz", HttpStatusCode.OK);
        var ready = await Await("/readyz", HttpStatusCode.OK);
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("status").GetString());
        Assert.Equal("Healthy", checks["store"]);
        Assert.Contains(checks, c => c.Key.Contains("masstransit", StringComparison.OrdinalIgnoreCase) && c.Value == "Healthy");

        // The store goes away: not ready, and the body says which server; still alive (a restart would not bring it back).
        storage.Current = FaultProxy.Mode.Refuse;
        var down = await Await("/readyz", HttpStatusCode.ServiceUnavailable);
        var store = down.GetProperty("checks").GetProperty("store");
        Assert.Equal("Unhealthy", store.GetProperty("status").GetString());
        Assert.Contains($"blob storage at http://127.0.0.1:{storage.Port}", store.GetProperty("description").GetString());
        Assert.DoesNotContain("AccountKey", down.ToString());
        Assert.Equal(HttpStatusCode.OK, (await Probe("/healthz")).Status);

        storage.Current = FaultProxy.Mode.Pass;
        await Await("/readyz", HttpStatusCode.OK);
    }
}
