using System.Text;
using System.Text.Json;
using Morlaif.Contracts;
using Morlaif.Storage;

namespace Morlaif.Cli.Tests;

/// <summary>
/// `morlaif status` without a run id, on a local store whose runs were written here: the runs newest first (not in the
/// order of their names), each with its state, times and where it is, as a table and as JSON, and --limit.
/// </summary>
public sealed class StatusListTests : IDisposable
{
    private const string Config = """
        { "seed": 5, "principles": ["helpfulness", "conciseness"], "ppo": { "iterations": 4, "iterationsPerChunk": 2 } }
        """;

    // sft, label and train-pm for helpfulness, conciseness and constitution, scalarize, two chunks of each of two arms, evaluate.
    private const int Records = 13;

    private readonly string _root = Directory.CreateTempSubdirectory("morlaif-status-list-").FullName;
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ArtifactReference Fake(string name) => new()
    {
        Container = ArtifactNames.Container, Name = $"runs/x/{name}/{new string('0', 64)}", Sha256 = new string('0', 64), Length = 1,
    };

    /// <summary>Four runs whose names sort in another order than their creation: (newest first) running with no record yet, faulted, labelling, completed.</summary>
    private async Task<string[]> WriteRunsAsync()
    {
        var store = new LocalArtifactStore(_root);
        var manifests = new LocalManifestStore(_root);
        async Task Add(string id, TimeSpan age, RunState state, Action<RunManifest> records)
        {
            var config = await store.PutAsync(id, "config", Encoding.UTF8.GetBytes(Config));
            var m = new RunManifest { RunId = id, Config = config, CreatedAt = _now - age, State = state, Questions = ["helpfulness", "conciseness", "constitution"] };
            records(m);
            Assert.True(await manifests.CreateAsync(m));
        }
        await Add("zz-completed", TimeSpan.FromHours(4), RunState.Completed, m => m.Stage("sft").State = StageState.Done);
        await Add("aa-labelling", TimeSpan.FromHours(3), RunState.Running, m =>
        {
            var sft = m.Stage("sft");
            (sft.State, sft.StartedAt, sft.Outputs) = (StageState.Done, _now - TimeSpan.FromMinutes(170), new() { ["policy"] = Fake("sft-policy"), ["pairs"] = Fake("pairs") });
            m.Stage("label/helpfulness").State = StageState.Running;
        });
        await Add("kk-faulted", TimeSpan.FromHours(2), RunState.Faulted, m =>
        {
            (m.Stage("sft").State, m.Stage("sft").Error, m.Error) = (StageState.Faulted, "boom", "sft: boom");
        });
        await Add("mm-new", TimeSpan.FromHours(1), RunState.Running, _ => { });
        return ["mm-new", "kk-faulted", "aa-labelling", "zz-completed"];
    }

    private (int Exit, string Stdout, string Stderr) Status(params string[] args) => MorlaifProcess.Run(["status", .. args, "--storage", "local", "--store", _root]);

    [Fact]
    public async Task Without_a_run_id_status_lists_the_runs_newest_first_with_where_each_is()
    {
        var expected = await WriteRunsAsync();
        var (exit, stdout, stderr) = Status();
        Assert.True(exit == 0, stderr);
        Assert.False(stdout.Contains('\u001b'), stdout); // redirected: no escape codes (a char: the culture-aware string search ignores ESC)
        var lines = stdout.Split('\n');
        var rows = expected.Select(id => Array.FindIndex(lines, l => l.Contains(id, StringComparison.Ordinal))).ToList();
        Assert.All(rows, i => Assert.True(i >= 0, stdout));
        Assert.Equal(rows.Order(), rows); // newest first
        string Row(string id) => lines.Single(l => l.Contains(id, StringComparison.Ordinal));
        Assert.Contains("sft (Pending)", Row("mm-new"));
        Assert.Contains($"0/{Records}", Row("mm-new"));
        Assert.Contains("sft (Faulted)", Row("kk-faulted"));
        Assert.Contains("sft: boom", Row("kk-faulted"));
        Assert.Contains("label/helpfulness (Running)", Row("aa-labelling"));
        Assert.Contains($"1/{Records}", Row("aa-labelling"));
        Assert.Contains((_now - TimeSpan.FromMinutes(170)).UtcDateTime.ToString("u"), Row("aa-labelling")); // started
        Assert.Contains("completed", Row("zz-completed"));
    }

    [Fact]
    public async Task The_list_as_json_keeps_the_order_and_limit_bounds_it()
    {
        var expected = await WriteRunsAsync();
        var (exit, stdout, stderr) = Status("--json", "--limit", "3");
        Assert.True(exit == 0, stderr);
        var runs = JsonDocument.Parse(stdout).RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(expected[..3], runs.Select(r => r.GetProperty("runId").GetString()));
        Assert.Equal(["Running", "Faulted", "Running"], runs.Select(r => r.GetProperty("state").GetString()));
        Assert.Equal(["sft", "sft", "label/helpfulness"], runs.Select(r => r.GetProperty("stage").GetString()));
        Assert.Equal(["Pending", "Faulted", "Running"], runs.Select(r => r.GetProperty("stageState").GetString()));
        Assert.Equal([0, 0, 1], runs.Select(r => r.GetProperty("recordsDone").GetInt32()));
        Assert.All(runs, r => Assert.Equal(Records, r.GetProperty("records").GetInt32()));
        Assert.Equal(JsonValueKind.Null, runs[0].GetProperty("startedAt").ValueKind);
        Assert.Equal(_now - TimeSpan.FromHours(1), runs[0].GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public void An_empty_store_lists_no_runs_and_limit_is_for_the_list_only()
    {
        var (exit, stdout, stderr) = Status();
        Assert.True(exit == 0, stderr);
        Assert.Equal("no runs in the store", stdout.Trim());

        (exit, _, stderr) = Status("20260101-000000-s1-abcdef", "--limit", "2");
        Assert.Equal(2, exit);
        Assert.Contains("'--limit'", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        (exit, _, stderr) = Status("--limit", "0");
        Assert.Equal(2, exit);
        Assert.Contains("'--limit'", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
