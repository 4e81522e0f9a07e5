namespace Morlaif.Workers.Supervision;

/// <summary>
/// How often a running stage proves it is alive, and how long a run may sit without any sign of life before
/// the supervisor asks again for what it is waiting on (bound from Morlaif:Supervision).
/// </summary>
public sealed class SupervisionSettings
{
    /// <summary>Seconds between a running stage's heartbeats in its manifest record.</summary>
    public double HeartbeatSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds a Running run may go without any activity in its manifest (a start, a heartbeat, a checkpoint,
    /// a completion) before its unfinished, ready stages are re-sent. Each further re-send of the same record
    /// waits twice as long, so messages that are only queued behind other runs' work are not re-sent in a loop.
    /// </summary>
    public double LeaseSeconds { get; set; } = 300;

    /// <summary>Seconds between the supervisor's sweeps over the runs.</summary>
    public double SweepSeconds { get; set; } = 15;

    /// <summary>Whether this host runs the supervisor (every worker host does by default; any number may).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many times one record is computed again for a lost output before the run is faulted.</summary>
    public int MaxRecomputes { get; set; } = 3;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);
    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
    public TimeSpan Sweep => TimeSpan.FromSeconds(SweepSeconds);

    /// <summary>
    /// A record is stalled when it is under way (Running or Publishing) in a Running run that has shown no
    /// activity for a lease: what `morlaif status` flags, and what the supervisor re-sends.
    /// </summary>
    public bool IsStalled(Storage.RunManifest run, Storage.StageRecord record, DateTimeOffset now) =>
        run.State == Storage.RunState.Running && record.State is Storage.StageState.Running or Storage.StageState.Publishing
        && now - run.LastActivity >= Lease;

    public void Validate()
    {
        if (HeartbeatSeconds <= 0 || LeaseSeconds <= HeartbeatSeconds * 2)
            throw new ArgumentException($"Morlaif:Supervision: LeaseSeconds ({LeaseSeconds}) must be more than twice HeartbeatSeconds ({HeartbeatSeconds}), which must be positive");
        if (SweepSeconds <= 0) throw new ArgumentException($"Morlaif:Supervision:SweepSeconds ({SweepSeconds}) must be positive");
    }
}
