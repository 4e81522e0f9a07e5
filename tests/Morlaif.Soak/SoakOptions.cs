namespace Morlaif.Soak;

/// <summary>The soak's command line: --runs N --parallel M --kill-every S --storage-faults --broker-restarts.</summary>
public sealed record SoakOptions(int Runs, int Parallel, int KillEverySeconds, bool StorageFaults, bool BrokerRestarts, int TimeoutMinutes)
{
    public static SoakOptions Parse(string[] args)
    {
        int runs = 6, parallel = 2, killEvery = 45, timeout = 60;
        bool storage = false, broker = false;
        for (var i = 0; i < args.Length; i++)
        {
            int Next()
            {
                var option = args[i];
                return ++i < args.Length && int.TryParse(args[i], out var v) && v >= 0 ? v : throw new ArgumentException($"{option} needs a whole number >= 0");
            }
            switch (args[i])
            {
                case "--runs": runs = Next(); break;
                case "--parallel": parallel = Next(); break;
                case "--kill-every": killEvery = Next(); break;
                case "--timeout-minutes": timeout = Next(); break;
                case "--storage-faults": storage = true; break;
                case "--broker-restarts": broker = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}' (known: --runs N, --parallel M, --kill-every SECONDS (0: none), --storage-faults, --broker-restarts, --timeout-minutes T)");
            }
        }
        if (runs < 1 || parallel < 1) throw new ArgumentException("--runs and --parallel must be at least 1");
        return new SoakOptions(runs, parallel, killEvery, storage, broker, timeout);
    }
}
