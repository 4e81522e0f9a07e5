using System.Globalization;
using Xunit.Abstractions;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// Long-lived workers: run after run through the same processes, each worker's memory stays where the first
/// run left it, because a worker keeps the models of the runs it is working on, within a bound, not of every
/// run it has seen.
/// </summary>
// A worker's supervisor adopts every Running run in the storage account, so a run another test left Running (with
// config "{}", the default run) was trained by these workers beside their own: the PPO learner once measured +33%
// (281 -> 374 MB) that way. No test leaves a Running manifest behind now (StorageTests, StageCheckpointSpecs).
[Trait("Category", "Integration")]
public sealed class WorkerMemoryTests(ITestOutputHelper output) : DistributedTest
{
    private const int Runs = 10;

    /// <summary>A smaller run than the other tests' (the memory a run leaves behind does not need a long one); a new seed each time, so no artifact repeats.</summary>
    private static string Config(int seed) => $$"""
        {
          "seed": {{seed}},
          "principles": ["helpfulness", "conciseness", "ethicality"],
          "model": { "dModel": 32, "layers": 1, "heads": 2 },
          "sft": { "demonstrations": 300, "epochs": 1, "batchSize": 64 },
          "pairs": { "train": 40, "test": 20, "human": 20, "accuracy": 40 },
          "preferenceModel": { "epochs": 2 },
          "ppo": { "iterations": 3, "iterationsPerChunk": 3, "rolloutsPerIteration": 32, "maxNewTokens": 16 },
          "evaluation": { "prompts": 16 }
        }
        """;

    /// <summary>
    /// Anonymous resident pages plus swapped (RssAnon + VmSwap in /proc): what the worker allocated itself,
    /// printed beside VmRSS (which also counts mapped files, libtorch's code among them). The bound is on
    /// VmRSS, as the issue states it.
    /// </summary>
    private static double HeldMb(int pid) => Status(pid, "RssAnon:") + Status(pid, "VmSwap:");

    private static double RssMb(int pid) => Status(pid, "VmRSS:");

    /// <summary>The process's threads: printed because native libraries keep buffers per calling thread.</summary>
    private static double Threads(int pid) => Status(pid, "Threads:") * 1024;

    private static double Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024);

    [Fact]
    public void Ten_runs_through_the_same_worker_processes_leave_each_worker_within_15_percent_of_its_memory_after_the_first()
    {
        // One worker of each kind, so that every run puts the same work through each process (two PM
        // trainers would share the PMs differently from run to run).
        foreach (var (service, name) in TinyDistributedRun.Workers.DistinctBy(w => w.Service)) Run.StartWorker(service, name);
        var workers = Run.Processes.Workers;
        var rss = workers.ToDictionary(w => w.Name, _ => new List<double>());
        var held = workers.ToDictionary(w => w.Name, _ => new List<double>());
        var threads = workers.ToDictionary(w => w.Name, _ => new List<double>());
        var config = Path.Combine(Path.GetTempPath(), $"{Run.VirtualHost}-memory.json");
        try
        {
            for (var i = 1; i <= Runs; i++)
            {
                File.WriteAllText(config, Config(seed: 100 + i));
                var runId = Run.Processes.StartRun(config);
                AssertCompleteAndIntact(runId, Run.WaitForCompletion(runId, TimeSpan.FromMinutes(5)));
                foreach (var (name, process) in workers)
                {
                    rss[name].Add(RssMb(process.Id));
                    held[name].Add(HeldMb(process.Id));
                    threads[name].Add(Threads(process.Id));
                }
            }
        }
        finally
        {
            File.Delete(config);
        }

        void Print(string what, Dictionary<string, List<double>> figures)
        {
            output.WriteLine($"{what} after each of {Runs} runs, per worker:");
            foreach (var (name, mb) in figures)
                output.WriteLine($"  {name,-22} {string.Join(" ", mb.Select(m => m.ToString("F0", CultureInfo.InvariantCulture)))}  ({(mb[^1] / mb[0] - 1) * 100:+0;-0}%)");
        }
        Print("anonymous resident + swapped (MB)", held);
        Print("RSS with mapped files (MB)", rss);
        Print("threads", threads);
        foreach (var (name, mb) in rss)
            Assert.True(mb[^1] <= mb[0] * 1.15, $"{name}: {mb[0]:F0} MB after the first run, {mb[^1]:F0} MB after the tenth (+{(mb[^1] / mb[0] - 1) * 100:F0}%)");
    }
}
