using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Morlaif.TestServers;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a real server (Azurite in the tests) that injects the faults a
/// storage service shows in production: refused connections (the service is down), HTTP 503 answers,
/// connections dropped in the middle of an upload or download, and slow responses. Changing the mode
/// also cuts every open connection, so clients cannot ride out a fault on a pooled keep-alive socket.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    public enum Mode
    {
        /// <summary>Forward everything (after <see cref="Latency"/> per chunk, if set).</summary>
        Pass,
        /// <summary>Accept and reset at once: to a client, the service is down.</summary>
        Refuse,
        /// <summary>Read the request head and answer 503 Service Unavailable.</summary>
        ServiceUnavailable,
        /// <summary>Forward a few hundred bytes each way, then reset: a half-sent upload or a half-read download.</summary>
        Drop,
    }

    private const int DropAfterBytes = 600;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private Mode _mode = Mode.Pass;
    private int _faults;

    public FaultProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = Task.Run(AcceptLoop);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections were given a fault.</summary>
    public int Faults => Volatile.Read(ref _faults);

    /// <summary>Delay added before each forwarded chunk in <see cref="Mode.Pass"/>.</summary>
    public TimeSpan Latency { get; set; }

    public Mode Current
    {
        get => _mode;
        set
        {
            _mode = value;
            lock (_open)
            {
                foreach (var c in _open) Reset(c);
                _open.Clear();
            }
        }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => Serve(client, _mode));
        }
    }

    private async Task Serve(TcpClient client, Mode mode)
    {
        if (mode != Mode.Pass) Interlocked.Increment(ref _faults);
        try
        {
            switch (mode)
            {
                case Mode.Refuse:
                    Reset(client);
                    return;
                case Mode.ServiceUnavailable:
                    await AnswerUnavailable(client);
                    return;
                default:
                    await Forward(client, mode == Mode.Drop ? DropAfterBytes : long.MaxValue);
                    return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client or the server went away; either way this connection is over.
        }
        finally
        {
            Reset(client);
        }
    }

    private async Task AnswerUnavailable(TcpClient client)
    {
        var stream = client.GetStream();
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, _stop.Token);
            if (n == 0) return;
            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        await stream.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), _stop.Token);
    }

    private async Task Forward(TcpClient client, long limit)
    {
        using var server = new TcpClient();
        await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
        lock (_open) _open.Add(client);
        try
        {
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = Pipe(client.GetStream(), server.GetStream(), limit, done.Token);
            var down = Pipe(server.GetStream(), client.GetStream(), limit, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
        }
        finally
        {
            lock (_open) _open.Remove(client);
        }
    }

    private async Task Pipe(NetworkStream from, NetworkStream to, long limit, CancellationToken cancel)
    {
        var buffer = new byte[16 * 1024];
        long sent = 0;
        while (true)
        {
            var n = await from.ReadAsync(buffer, cancel);
            if (n == 0) return;
            if (Latency > TimeSpan.Zero) await Task.Delay(Latency, cancel);
            var take = (int)Math.Min(n, limit - sent);
            await to.WriteAsync(buffer.AsMemory(0, take), cancel);
            sent += take;
            if (sent >= limit) return; // Drop: the rest never arrives
        }
    }

    /// <summary>Closes with RST (linger 0) rather than FIN, as a crashed or unreachable peer would.</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        Current = Mode.Pass; // closes what is still open
        _stop.Dispose();
    }
}
