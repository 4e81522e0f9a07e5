using Azure;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Morlaif.Storage;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Morlaif.Hosting;

/// <summary>
/// A server a command needs does not answer. The message names the server and its address, never its
/// credentials: "RabbitMQ at 127.0.0.1:5672 is unreachable: Connection refused", or "... refused the login: ..."
/// when it answers but not to these credentials.
/// </summary>
public sealed class ServerUnreachableException(string server, string address, string reason, Exception? inner = null, string problem = "is unreachable")
    : Exception($"{server} at {address} {problem}: {reason}", inner)
{
    public string Server { get; } = server;

    public string Address { get; } = address;
}

/// <summary>
/// One bounded look at each server a short-lived command needs, before it changes anything: the hosts'
/// clients retry for a minute or more (right for a worker riding out an outage, wrong for a command
/// someone is waiting on).
/// </summary>
public static class ServerChecks
{
    public const string Broker = "RabbitMQ";
    public const string Storage = "blob storage";

    /// <summary>Checks the broker and blob storage that <paramref name="configuration"/> selects (nothing for inmemory or local).</summary>
    public static async Task RequireAsync(IConfiguration configuration, TimeSpan timeout, CancellationToken cancel = default)
    {
        var options = configuration.GetSection("Morlaif").Get<MorlaifOptions>() ?? new MorlaifOptions();
        if (options.Storage == "azure") await RequireStorageAsync(configuration, timeout, cancel);
        if (options.Transport == "rabbitmq") await RequireBrokerAsync(configuration, timeout, cancel);
    }

    /// <summary>host:port of the broker; the connection string's user and password are left out.</summary>
    public static string BrokerAddress(IConfiguration configuration)
    {
        var uri = BrokerUri(configuration);
        var port = uri.Port > 0 ? uri.Port : uri.Scheme == "amqps" ? 5671 : 5672;
        return $"{uri.Host}:{port}";
    }

    /// <summary>The blob service's URL without user info, query (a SAS) or fragment.</summary>
    public static string StorageAddress(IConfiguration configuration) => Address(new BlobServiceClient(HostingDefaults.Required(configuration, "blobs")).Uri);

    public static async Task RequireBrokerAsync(IConfiguration configuration, TimeSpan timeout, CancellationToken cancel = default)
    {
        var address = BrokerAddress(configuration);
        var factory = new ConnectionFactory
        {
            Uri = BrokerUri(configuration),
            RequestedConnectionTimeout = timeout,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
        };
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bounded.CancelAfter(timeout);
        try
        {
            await using var connection = await factory.CreateConnectionAsync("morlaif-check", bounded.Token);
            await connection.CloseAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new ServerUnreachableException(Broker, address, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (Innermost<AuthenticationFailureException>(e) is { } auth)
                throw new ServerUnreachableException(Broker, address, FirstLine(auth.Message), e, "refused the login");
            throw new ServerUnreachableException(Broker, address, Reason(e), e);
        }
    }

    public static async Task RequireStorageAsync(IConfiguration configuration, TimeSpan timeout, CancellationToken cancel = default)
    {
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 0; // one look; the hosts' clients keep their own retries
        clientOptions.Retry.NetworkTimeout = timeout;
        var service = new BlobServiceClient(HostingDefaults.Required(configuration, "blobs"), clientOptions);
        var address = Address(service.Uri);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        bounded.CancelAfter(timeout);
        try
        {
            await service.GetBlobContainerClient(ArtifactNames.Container).ExistsAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new ServerUnreachableException(Storage, address, $"no answer within {timeout.TotalSeconds:0} s");
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            throw new ServerUnreachableException(Storage, address, $"{e.Status} {e.ErrorCode}", e, "refused access");
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            // It answered; whatever it objects to, the command meets and reports in its own words.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ServerUnreachableException(Storage, address, Reason(e), e);
        }
    }

    private static Uri BrokerUri(IConfiguration configuration)
    {
        // MassTransit also takes rabbitmq:// and rabbitmqs://; the client library speaks amqp:// and amqps://.
        var builder = new UriBuilder(HostingDefaults.Required(configuration, "rabbitmq"));
        builder.Scheme = builder.Scheme switch { "rabbitmq" => "amqp", "rabbitmqs" => "amqps", var s => s };
        return builder.Uri;
    }

    private static string Address(Uri uri) => new UriBuilder(uri) { UserName = "", Password = "", Query = "", Fragment = "" }.Uri.ToString().TrimEnd('/');

    /// <summary>The innermost exception's message ("Connection refused"), on one line.</summary>
    private static string Reason(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return FirstLine(e.Message);
    }

    private static T? Innermost<T>(Exception e) where T : Exception
    {
        T? found = null;
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T t) found = t;
        return found;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
