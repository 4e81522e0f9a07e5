using System.Text.Json;
using static Morlaif.Integration.Tests.DistributedRun;

namespace Morlaif.Integration.Tests;

/// <summary>
/// Messages come from outside the project's own code too (other publishers, hand-made replays, old
/// versions). A body that does not match the contract gets one clear error, lands in the queue's
/// _error queue with the reason, marks its run Faulted when it names one, and publishes nothing.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BadMessageTests : DistributedTest
{
    private async Task<List<(string Body, JsonElement Headers)>> ErrorsAsync(string queue, int atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var errors = await Servers.PeekAsync(Run.VirtualHost, $"{queue}_error");
            if (errors.Count >= atLeast) return errors;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{queue}_error has {errors.Count} messages, expected {atLeast}\n{Run.Processes.Logs()}");
            await Task.Delay(200);
        }
    }

    private string WaitForFault(string runId) => Run.WaitForFault(runId, TimeSpan.FromMinutes(2)).GetProperty("error").GetString()!;

    /// <summary>Rewrites a run's manifest as if its SFT stage had finished, with outputs that name blobs that do not exist.</summary>
    private static void PretendSftProducedMissingBlobs(string runId)
    {
        var blob = Container.GetBlobClient($"runs/{runId}/manifest.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(blob.DownloadContent().Value.Content.ToString())!;
        System.Text.Json.Nodes.JsonObject Missing(string kind) => new()
        {
            ["container"] = "morlaif", ["name"] = $"runs/{runId}/{kind}/{new string('0', 64)}", ["sha256"] = new string('0', 64), ["length"] = 1,
        };
        manifest["stages"]!["sft"] = new System.Text.Json.Nodes.JsonObject
        {
            ["state"] = "Done", ["attempts"] = 1, ["outputs"] = new System.Text.Json.Nodes.JsonObject { ["policy"] = Missing("sft-policy"), ["pairs"] = Missing("pairs") },
        };
        blob.Upload(BinaryData.FromString(manifest.ToJsonString()), overwrite: true);
    }

    [Fact]
    public async Task Bodies_that_do_not_match_the_contract_are_rejected_with_their_reason_and_fault_the_run_they_name()
    {
        // Runs that exist (their manifests are written) but do not progress on their own: no learner runs SFT.
        Run.StartWorker("Morlaif.Labeller");
        Run.StartWorker("Morlaif.PreferenceTrainer");
        string missingField = Run.Start(), unknownPrinciple = Run.Start(), missingBlob = Run.Start();
        PretendSftProducedMissingBlobs(missingBlob);

        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-label", "this is not json");
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-label", Envelope("LabelPairs", """{"runId":42}"""));
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-label", Envelope("LabelPairs", """{"runId":"../../etc"}"""));
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-train-pm", Envelope("TrainPreferenceModel", $$"""{"runId":"{{missingField}}"}"""));
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-label", Envelope("LabelPairs", $$"""{"runId":"{{unknownPrinciple}}","principle":"nonsense"}"""));
        await Servers.PublishRawAsync(Run.VirtualHost, "morlaif-label", Envelope("LabelPairs", $$"""{"runId":"{{missingBlob}}","principle":"helpfulness"}"""));

        // Each message is in its queue's _error queue with the reason MassTransit recorded.
        var errors = (await ErrorsAsync("morlaif-label", 4)).Select(e => e.Headers.GetProperty("MT-Fault-Message").GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("invalid JSON", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("token type 'Number'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("run id '../../etc' is not valid", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("has no principle 'nonsense'", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("does not exist", StringComparison.Ordinal));
        var trainErrors = await ErrorsAsync("morlaif-train-pm", 1);
        Assert.Contains("missing required properties including: 'principle'", trainErrors[0].Headers.GetProperty("MT-Fault-Message").GetString());

        // Each run a message named is Faulted with that message's reason, as `morlaif status` shows it.
        var contract = WaitForFault(missingField);
        Assert.StartsWith("train-pm: message TrainPreferenceModel does not match its contract", contract);
        Assert.Contains("'principle'", contract);
        var unknown = WaitForFault(unknownPrinciple);
        Assert.StartsWith("label: ", unknown);
        Assert.Contains("has no principle 'nonsense'", unknown);
        // Inputs the manifest references but the store does not have are not bad input: the stage that
        // produced them is asked to compute them again (its command waits for a learner), the run goes on.
        var recomputing = Run.WaitFor(missingBlob, m => Stage(m, "sft").TryGetProperty("recomputed", out var r) && r.GetInt32() == 1, TimeSpan.FromMinutes(2));
        Assert.Equal("Running", State(recomputing));
        Assert.Equal("Pending", State(Stage(recomputing, "sft")));
        Assert.Equal("sft", Stage(recomputing, "label/helpfulness").GetProperty("waitingFor").GetString());
        Assert.Equal(1, Stage(Run.Status(missingBlob), "sft").GetProperty("recomputed").GetInt32()); // as `morlaif status --json` shows it
        // The recompute command is sent right after the manifest records it: wait for it in the learner's queue.
        Run.WaitForQueue("morlaif-sft", d => d.Ready >= 4, TimeSpan.FromMinutes(1), "holding the three start events and the recompute command");

        // Nothing partial was published or kept: no stage queue holds a message but the three runs' own
        // start events and the recompute command (waiting for a learner), no run has an artifact but its config.
        // (Read with the management API's get, which sees the queue itself; its counters lag by seconds.)
        foreach (var (queue, _, _) in await Servers.QueuesAsync(Run.VirtualHost))
        {
            if (queue.EndsWith("_error", StringComparison.Ordinal)) continue;
            var held = (await Servers.PeekAsync(Run.VirtualHost, queue)).Count;
            Assert.True(held == (queue == "morlaif-sft" ? 4 : 0), $"{queue} holds {held} messages\n{Run.Processes.Logs()}");
        }
        foreach (var run in new[] { missingField, unknownPrinciple, missingBlob })
            Assert.Equal(["config"], ArtifactKinds(run));
        // The workers are still there for the next message.
        Assert.All(Run.Processes.Workers, w => Assert.False(w.Process.HasExited, w.Name));
    }
}
