using System.Diagnostics;
using Morlaif.Soak;
using Morlaif.TestServers;

// The soak (tests/soak.sh): N runs, M at a time, through the distributed workers while a worker is
// SIGKILLed and replaced every few seconds, and optionally while the blob store misbehaves and the broker
// restarts. At the end every run must be Completed and every artifact it references must verify.
SoakOptions options;
try
{
    options = SoakOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"soak: {e.Message}");
    return 2;
}

var vhost = $"morlaif-soak-{Guid.NewGuid():N}"[..26];
var (amqp, _) = await Servers.NewVirtualHostAsync(vhost);
await using var proxy = new FaultProxy(Servers.BlobPort);
// The workers reach storage through the fault proxy when asked; the CLI and the soak's own reads go straight to Azurite.
var workerEnv = Servers.WorkerEnvironment(amqp, options.StorageFaults ? Servers.BlobConnectionStringOnPort(proxy.Port) : Servers.BlobConnectionString);
using var processes = new Processes(Servers.WorkerEnvironment(amqp, Servers.BlobConnectionString));
var configPath = Path.Combine(Path.GetTempPath(), $"{vhost}.json");
await File.WriteAllTextAsync(configPath, TinyDistributedRun.Config);

var workers = TinyDistributedRun.Workers.ToDictionary(w => w.Name, w => processes.StartWorker(w.Service, w.Name, workerEnv));
var faults = new Dictionary<string, int>();
void Count(string kind)
{
    lock (faults) faults[kind] = faults.GetValueOrDefault(kind) + 1;
}

var clock = Stopwatch.StartNew();
var deadline = TimeSpan.FromMinutes(options.TimeoutMinutes);
using var stop = new CancellationTokenSource();
var injector = Task.Run(async () =>
{
    var rng = new Random(7);
    var tick = 0;
    while (!stop.IsCancellationRequested)
    {
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(5, options.KillEverySeconds == 0 ? 15 : options.KillEverySeconds)), stop.Token).ContinueWith(_ => { });
        if (stop.IsCancellationRequested) break;
        tick++;
        if (options.KillEverySeconds > 0)
        {
            var (service, name) = TinyDistributedRun.Workers[rng.Next(TinyDistributedRun.Workers.Length)];
            workers[name].Kill();
            await workers[name].WaitForExitAsync();
            workers[name] = processes.StartWorker(service, name, workerEnv);
            Count($"SIGKILL {service}");
        }
        if (options.StorageFaults)
        {
            FaultProxy.Mode[] faultModes = [FaultProxy.Mode.Refuse, FaultProxy.Mode.ServiceUnavailable, FaultProxy.Mode.Drop];
            var mode = faultModes[rng.Next(faultModes.Length)];
            proxy.Current = mode;
            await Task.Delay(TimeSpan.FromSeconds(mode == FaultProxy.Mode.Refuse ? 8 : 3));
            proxy.Current = FaultProxy.Mode.Pass;
            Count($"storage {mode}");
        }
        if (options.BrokerRestarts && tick % 3 == 0)
        {
            Servers.RestartBroker(TimeSpan.FromSeconds(5));
            Count("broker restart");
        }
    }
});

// M runs in flight; a new one starts as soon as one finishes, until N have been started.
var started = 0;
var finished = new Dictionary<string, string>();
var inFlight = new List<string>();
while ((started < options.Runs || inFlight.Count > 0) && clock.Elapsed < deadline)
{
    while (started < options.Runs && inFlight.Count < options.Parallel && clock.Elapsed < deadline)
    {
        string id;
        try
        {
            id = processes.StartRun(configPath);
        }
        catch (InvalidOperationException e) // e.g. the broker is down for an injected restart: try again shortly
        {
            Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {e.Message.Split('\n')[0]}; retrying");
            await Task.Delay(2000);
            continue;
        }
        started++;
        inFlight.Add(id);
        Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] started {id}");
    }
    await Task.Delay(1000);
    foreach (var id in inFlight.ToList())
    {
        string state;
        try
        {
            state = RunStorage.Manifest(id).GetProperty("state").GetString()!;
        }
        catch (Azure.RequestFailedException)
        {
            continue; // the soak's own reads go straight to Azurite, but a busy moment is not a verdict
        }
        if (state == "Running") continue;
        finished[id] = state;
        inFlight.Remove(id);
        Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {id} {state}");
    }
}
await stop.CancelAsync();
await injector;

// Every artifact a finished run references must download with the hash and length it was recorded with.
int verified = 0, damaged = 0;
foreach (var id in finished.Keys)
foreach (var (stage, output, _, intact) in RunStorage.Outputs(RunStorage.Manifest(id)))
{
    if (intact) verified++;
    else
    {
        damaged++;
        Console.WriteLine($"DAMAGED: {id} {stage}/{output}");
    }
}
var queues = await Servers.QueuesAsync(vhost);
var redelivered = queues.Sum(q => q.Redelivered);
var errorQueued = queues.Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal)).Sum(q => q.Messages);

var completed = finished.Count(f => f.Value == "Completed");
Console.WriteLine();
Console.WriteLine($"soak: {options.Runs} runs, {options.Parallel} at a time, {clock.Elapsed.TotalMinutes:F1} min");
Console.WriteLine($"  runs completed        {completed} / {options.Runs}");
Console.WriteLine($"  runs faulted          {finished.Count(f => f.Value == "Faulted")}");
Console.WriteLine($"  runs unfinished       {options.Runs - finished.Count}");
Console.WriteLine($"  faults injected       {faults.Values.Sum()}{(faults.Count > 0 ? " (" + string.Join(", ", faults.OrderBy(f => f.Key).Select(f => $"{f.Key}: {f.Value}")) + ")" : "")}");
Console.WriteLine($"  storage faults served {proxy.Faults} connections");
Console.WriteLine($"  messages redelivered  {redelivered}");
Console.WriteLine($"  messages in _error    {errorQueued}");
Console.WriteLine($"  artifacts verified    {verified} ({damaged} damaged)");

processes.Dispose(); // the workers go before their virtual host does
await Servers.DeleteVirtualHostAsync(vhost);
File.Delete(configPath);
return completed == options.Runs && damaged == 0 ? 0 : 1;
