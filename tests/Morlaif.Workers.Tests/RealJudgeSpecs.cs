using Morlaif.Learning.Runs;
using Morlaif.Learning.Stages;
using Morlaif.Learning.World;
using Morlaif.Storage;
using Morlaif.TestServers;

namespace Morlaif.Workers.Tests;

[Trait("Category", "Slow")]
public class RealJudgeSpecs
{
    [Fact]
    public async Task With_an_openai_judge_the_labeller_asks_the_endpoint_about_every_pair_in_both_orders()
    {
        // A judge that prefers whichever response mentions a capital city's correct name ("paris", ...), else says B.
        await using var server = new FakeChatServer().Then(new FakeChatServer.PreferOption("paris", 0.8));
        var config = TinyRun.Config(seed: 9) with
        {
            Judge = new RunConfig.JudgeConfig { Kind = "openai", Endpoint = server.Endpoint.ToString(), Model = "fake-judge", Concurrency = 8 },
        };
        config.Validate();
        await using var pipeline = new PipelineHarness(WorkerRegistration.All);
        await pipeline.StartAsync();
        var runId = await pipeline.StartRunAsync(config);
        var manifest = await pipeline.WaitAsync(runId);

        Assert.Equal(RunState.Completed, manifest.State);
        var questions = 3; // two principles and the baseline's "constitution"
        Assert.Equal((config.Pairs.Train + config.Pairs.Test) * questions * 2, server.Requests);
        var labels = LabelSet.FromJson(await pipeline.Store.GetAsync(manifest.Stages[StageKeys.Label("helpfulness")].Outputs["labels"]));
        Assert.Equal(0, labels.Abstentions);
        Assert.Equal(config.Pairs.Train, labels.Train.Count);
        // The fake judge picks the option that mentions "paris" and otherwise always says B: consistent in both
        // orders when exactly one response mentions it, a position-biased tie when neither or both do.
        var pairs = PairSet<Learning.World.SyntheticPrompt>.FromJson(await pipeline.Store.GetAsync(manifest.Stages[StageKeys.Sft].Outputs["pairs"]));
        for (var i = 0; i < pairs.Train.Count; i++)
        {
            var (a, b) = (pairs.Train[i].TextA.Contains("paris"), pairs.Train[i].TextB.Contains("paris"));
            var expected = a == b ? 0.5 : a ? 1.0 : 0.0;
            Assert.Equal(expected, labels.Train[i].PreferA);
            Assert.Equal(a == b, labels.Train[i].OrdersDisagreed);
        }
        Assert.Contains(labels.Train, l => !l.OrdersDisagreed);

        // Labelling again (a replay, or another run on the same pairs) is answered from the artifact store's cache.
        var requests = server.Requests;
        var ctx = new WorldRun(config, TorchSharp.torch.CPU);
        var again = await Workers.Labeller.ChatJudgeLabelling.LabelAsync(ctx.Config, pairs.Train, pairs.Test, "helpfulness", new Workers.Labeller.ArtifactJudgeCache(pipeline.Store), CancellationToken.None);
        Assert.Equal(requests, server.Requests);
        Assert.Equal(labels.Train, again.Train);
    }

    [Fact]
    public void An_openai_judge_without_endpoint_or_model_is_a_config_error()
    {
        var e = Assert.Throws<ConfigException>(() => RunConfig.Parse("""{ "judge": { "kind": "openai", "model": "m" } }"""));
        Assert.Contains("judge.endpoint", e.Message);
        Assert.Contains("judge.model", Assert.Throws<ConfigException>(() => RunConfig.Parse("""{ "judge": { "kind": "openai", "endpoint": "http://127.0.0.1:1/v1" } }""")).Message);
        Assert.Contains("judge.kind", Assert.Throws<ConfigException>(() => RunConfig.Parse("""{ "judge": { "kind": "oracle" } }""")).Message);
    }
}
