using System.Text.Json;
using System.Text.Json.Serialization;
using Morlaif.Contracts;

namespace Morlaif.Storage;

public enum RunState { Running, Completed, Faulted }

/// <summary>Publishing: outputs are recorded and the stage's event is being published (see the workers' StageGate).</summary>
public enum StageState { Pending, Running, Publishing, Done, Faulted }

/// <summary>One stage of a run (or one principle's or arm's part of it): state, times, error and outputs.</summary>
public sealed class StageRecord
{
    public StageState State { get; set; } = StageState.Pending;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public Dictionary<string, ArtifactReference> Outputs { get; set; } = new();
    /// <summary>Seconds spent in the stage's parts, where a stage has several (sft: "sft" and "pairs").</summary>
    public Dictionary<string, double>? Seconds { get; set; }
    /// <summary>"&lt;message id&gt;/&lt;delivery&gt;" that recorded the outputs: only that delivery (its retries) or the broker's redelivery of the same message publishes them.</summary>
    public string? Claim { get; set; }
    /// <summary>Progress saved inside a long stage (PM epochs, PPO iterations): where a redelivery resumes.</summary>
    public StageCheckpoint? Checkpoint { get; set; }
    /// <summary>How far the stage's work is and its latest figures: what `morlaif run` and `morlaif status --watch` show.</summary>
    public StageProgress? Progress { get; set; }
    /// <summary>The step the latest attempt resumed from; null when it started from the beginning.</summary>
    public int? ResumedFrom { get; set; }
    /// <summary>The last sign of life of the attempt working on the stage: its start, a periodic beat, each checkpoint, its outputs.</summary>
    public DateTimeOffset? Heartbeat { get; set; }
    /// <summary>How often the supervisor re-sent the stage's command because the run had stopped moving, and when it last did.</summary>
    public int Resent { get; set; }
    public DateTimeOffset? ResentAt { get; set; }
    /// <summary>How often the stage was computed again because an output of it had gone missing from the store.</summary>
    public int Recomputed { get; set; }
    /// <summary>The record computing again an input this one found missing; its completion sends this one's command.</summary>
    public string? WaitingFor { get; set; }

    /// <summary>
    /// The stage's outputs are recorded (its event may still be on its way): what a fan-in waits for, since
    /// the event that triggers the fan-in is published before its own stage is marked Done.
    /// </summary>
    [JsonIgnore]
    public bool Produced => State is StageState.Publishing or StageState.Done;

    /// <summary>The latest moment anything happened to this record.</summary>
    [JsonIgnore]
    public DateTimeOffset? LastActivity => new[] { StartedAt, CompletedAt, Heartbeat, ResentAt }.Max();

    [JsonIgnore]
    public double? ElapsedSeconds => StartedAt is { } s && CompletedAt is { } c ? (c - s).TotalSeconds : null;
}

/// <summary>
/// How far a stage's work is: <paramref name="Done"/> of <paramref name="Total"/> <paramref name="Unit"/> (PM epochs, PPO
/// iterations of the arm), the latest figures that matter (loss, held-out accuracy, proxy reward, KL, true preference),
/// and when it was reported.
/// </summary>
public sealed record StageProgress(int Done, int Total, string Unit, IReadOnlyDictionary<string, double>? Figures = null, DateTimeOffset? At = null);

/// <summary>
/// A checkpoint inside a stage: the step it reached, its state, and a fingerprint of the inputs it was
/// computed from (a checkpoint from other inputs is never resumed).
/// </summary>
public sealed record StageCheckpoint(int Step, ArtifactReference State, string Inputs);

/// <summary>
/// The one mutable document of a run: its config, the state of every stage and the artifacts each
/// produced. Any process can tell the run's state from it; the fan-in decisions are taken on it.
/// Stage keys (the workers' StageKeys): "sft", "label/&lt;question&gt;", "train-pm/&lt;question&gt;", "scalarize",
/// "ppo/&lt;arm&gt;/&lt;first iteration of the chunk&gt;", "evaluate".
/// </summary>
public sealed class RunManifest
{
    public required string RunId { get; init; }
    public required ArtifactReference Config { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public RunState State { get; set; } = RunState.Running;
    public string? Error { get; set; }
    /// <summary>The questions whose PMs the scalarizer waits for (the principles and "overall").</summary>
    public List<string> Questions { get; init; } = [];
    /// <summary>What the run was started with beyond its config (a text run: its model folders and data), as stored artifacts.</summary>
    public SortedDictionary<string, ArtifactReference> Inputs { get; init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, StageRecord> Stages { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The latest moment anything happened to the run: a record's activity, or its creation.</summary>
    [JsonIgnore]
    public DateTimeOffset LastActivity => Stages.Values.Select(s => s.LastActivity).Append(CreatedAt).Max() ?? CreatedAt;

    public StageRecord Stage(string key)
    {
        if (!Stages.TryGetValue(key, out var s)) Stages[key] = s = new StageRecord();
        return s;
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static RunManifest FromJson(byte[] json, string source) =>
        JsonSerializer.Deserialize<RunManifest>(json, Json) ?? throw new InvalidDataException($"manifest {source} is empty");
}
