using System.Net.Http.Headers;
using System.Text;

namespace Morlaif.TestServers;

/// <summary>
/// The local servers of infra/local.sh. Each test gets its own RabbitMQ virtual host (through the
/// management API), so queues left over from another run can never feed it messages.
/// </summary>
public static class Servers
{
    public const string Blobs =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    public static string BlobConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__blobs") is { Length: > 0 } cs ? cs : Blobs;

    /// <summary>The blob connection string with its endpoint moved to another port on 127.0.0.1 (a <see cref="FaultProxy"/>).</summary>
    public static string BlobConnectionStringOnPort(int port) =>
        System.Text.RegularExpressions.Regex.Replace(BlobConnectionString, @"BlobEndpoint=http://127\.0\.0\.1:\d+/", $"BlobEndpoint=http://127.0.0.1:{port}/");

    /// <summary>The port Azurite's blob service listens on, from the connection string.</summary>
    public static int BlobPort => int.Parse(System.Text.RegularExpressions.Regex.Match(BlobConnectionString, @"BlobEndpoint=http://127\.0\.0\.1:(\d+)/").Groups[1].Value,
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>What a worker or the CLI needs to reach this broker and blob store, as a deployment gives it: environment variables.</summary>
    public static Dictionary<string, string> WorkerEnvironment(string amqp, string blobs) => new()
    {
        ["ConnectionStrings__rabbitmq"] = amqp,
        ["ConnectionStrings__blobs"] = blobs,
        ["Morlaif__Transport"] = "rabbitmq",
        ["Morlaif__Storage"] = "azure",
    };

    private static HttpClient Management()
    {
        var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/api/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        return http;
    }

    /// <summary>
    /// Creates a virtual host and a user of the same name with a random password, allowed only there, and
    /// returns the AMQP connection string (as a deployment would give it: credentials in the environment).
    /// </summary>
    public static async Task<(string Amqp, string Password)> NewVirtualHostAsync(string name)
    {
        using var http = Management();
        (await http.PutAsync($"vhosts/{name}", null)).EnsureSuccessStatusCode();
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var user = new StringContent($$"""{"password":"{{password}}","tags":""}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"users/{name}", user)).EnsureSuccessStatusCode();
        foreach (var who in new[] { name, "guest" }) // guest: the management calls of the tests themselves
        {
            var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
            (await http.PutAsync($"permissions/{name}/{who}", permissions)).EnsureSuccessStatusCode();
        }
        return ($"amqp://{name}:{password}@127.0.0.1:5672/{name}", password);
    }

    public static async Task DeleteVirtualHostAsync(string name)
    {
        using var http = Management();
        await http.DeleteAsync($"vhosts/{name}");
        await http.DeleteAsync($"users/{name}");
    }

    /// <summary>
    /// Restarts the broker application (rabbitmqctl stop_app, start_app): every connection drops, durable
    /// queues and persistent messages survive, as in a broker restart. Affects every user of the broker.
    /// </summary>
    public static void RestartBroker(TimeSpan down)
    {
        Ctl("stop_app");
        Thread.Sleep(down);
        Ctl("start_app");
    }

    /// <summary>
    /// SIGKILLs the server (infra/local.sh kill: "rabbitmq" or "azurite"), as a crash would: what it had not
    /// made durable is gone. <see cref="StartServers"/> brings it back on the same data.
    /// </summary>
    public static void Kill(string server) => LocalSh("kill", server);

    /// <summary>infra/local.sh up: starts whichever server is not listening, on its data folder as it was left.</summary>
    public static void StartServers() => LocalSh("up");

    private static string Ctl(params string[] command) => LocalSh(["ctl", .. command]);

    private static string LocalSh(params string[] command)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Processes.RepoRoot, "infra", "local.sh"));
        foreach (var a in command) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"infra/local.sh {string.Join(' ', command)} failed ({p.ExitCode}): {error}{output.Result}");
        return output.Result;
    }

    /// <summary>
    /// A queue's messages ready and unacknowledged right now, asked of the queue itself (rabbitmqctl), not
    /// of the management API's statistics, which lag by seconds: (0, 0) means every message routed to it
    /// so far has been consumed and acknowledged.
    /// </summary>
    public static (long Ready, long Unacknowledged) QueueDepth(string vhost, string queue)
    {
        foreach (var line in Ctl("list_queues", "-q", "--no-table-headers", "-p", vhost, "name", "messages_ready", "messages_unacknowledged").Split('\n'))
            if (line.Split('\t', StringSplitOptions.TrimEntries) is [var name, var ready, var unacked] && name == queue)
                return (long.Parse(ready, System.Globalization.CultureInfo.InvariantCulture), long.Parse(unacked, System.Globalization.CultureInfo.InvariantCulture));
        throw new InvalidOperationException($"no queue '{queue}' in virtual host {vhost}");
    }

    /// <summary>Deletes every ready message of a queue (rabbitmqctl purge_queue), as an operator might by mistake.</summary>
    public static void Purge(string vhost, string queue) => Ctl("purge_queue", "-p", vhost, queue);

    /// <summary>Every queue of a virtual host and its type (classic, quorum, stream), from rabbitmqctl.</summary>
    public static Dictionary<string, string> QueueTypes(string vhost) =>
        Ctl("list_queues", "-q", "--no-table-headers", "-p", vhost, "name", "type").Split('\n')
            .Select(line => line.Split('\t', StringSplitOptions.TrimEntries)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);

    /// <summary>
    /// A queue that receives a copy of every <paramref name="messageType"/> event published in the virtual
    /// host (bound to MassTransit's exchange for it, declared here as MassTransit does if it is not yet), and
    /// that nobody consumes: its depth (<see cref="QueueDepth"/>) counts the events exactly.
    /// </summary>
    public static async Task<string> WitnessAsync(string vhost, string messageType)
    {
        using var http = Management();
        var exchange = Uri.EscapeDataString($"Morlaif.Contracts:{messageType}");
        var queue = $"witness-{messageType}";
        (await http.PutAsync($"exchanges/{vhost}/{exchange}", new StringContent("""{"type":"fanout","durable":true}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await http.PutAsync($"queues/{vhost}/{queue}", new StringContent("""{"durable":true}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await http.PostAsync($"bindings/{vhost}/e/{exchange}/q/{queue}", new StringContent("{}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return queue;
    }

    /// <summary>Puts a raw body on a queue (through the default exchange), as a foreign or broken publisher would.</summary>
    public static async Task PublishRawAsync(string vhost, string queue, string body)
    {
        using var http = Management();
        var request = System.Text.Json.JsonSerializer.Serialize(new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2 },
            routing_key = queue,
            payload = body,
            payload_encoding = "string",
        });
        var response = await http.PostAsync($"exchanges/{vhost}/amq.default/publish", new StringContent(request, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var routed = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("routed").GetBoolean();
        if (!routed) throw new InvalidOperationException($"no queue '{queue}' in virtual host {vhost}");
    }

    /// <summary>Up to 20 messages from a queue, left on it: (body, headers as JSON).</summary>
    public static async Task<List<(string Body, System.Text.Json.JsonElement Headers)>> PeekAsync(string vhost, string queue)
    {
        using var http = Management();
        const string request = """{"count":20,"ackmode":"ack_requeue_true","encoding":"auto"}""";
        var response = await http.PostAsync($"queues/{vhost}/{queue}/get", new StringContent(request, Encoding.UTF8, "application/json"));
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return [];
        response.EnsureSuccessStatusCode();
        var messages = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return messages.EnumerateArray().Select(m => (m.GetProperty("payload").GetString()!, m.GetProperty("properties").GetProperty("headers").Clone())).ToList();
    }

    /// <summary>Every queue of a virtual host with its message count and how many deliveries were redeliveries.</summary>
    public static async Task<List<(string Name, long Messages, long Redelivered)>> QueuesAsync(string vhost)
    {
        using var http = Management();
        var queues = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"queues/{vhost}")).RootElement;
        return queues.EnumerateArray().Select(q => (
            q.GetProperty("name").GetString()!,
            q.TryGetProperty("messages", out var m) ? m.GetInt64() : 0,
            q.TryGetProperty("message_stats", out var st) && st.TryGetProperty("redeliver", out var r) ? r.GetInt64() : 0)).ToList();
    }

    /// <summary>How many messages have been routed into a queue since it was declared (the management API's counter, a few seconds behind).</summary>
    public static async Task<long> PublishedToAsync(string vhost, string queue)
    {
        using var http = Management();
        var q = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"queues/{vhost}/{queue}")).RootElement;
        return q.TryGetProperty("message_stats", out var st) && st.TryGetProperty("publish", out var p) ? p.GetInt64() : 0;
    }
}
