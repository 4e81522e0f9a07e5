using Morlaif.TestServers;

namespace Morlaif.Cli.Tests;

public class LabelProgressTests
{
    [Fact]
    public async Task Label_redirected_prints_its_progress_as_plain_lines_at_each_tenth()
    {
        var dir = Directory.CreateTempSubdirectory("morlaif-label-progress-").FullName;
        var input = Path.Combine(dir, "pairs.jsonl");
        File.WriteAllLines(input, Enumerable.Range(0, 20).Select(i => $$"""{"prompt": "question {{i}}?", "chosen": "a short answer", "rejected": "a much longer answer {{i}}"}"""));
        await using var server = new FakeChatServer().Then(new FakeChatServer.ByLength(0.9));
        var (exit, stdout, stderr) = MorlaifProcess.Run("label", "--input", input, "--endpoint", server.Endpoint.ToString(), "--model", "fake-judge",
            "--principles", "helpfulness,conciseness", "--out", Path.Combine(dir, "out"));
        Assert.True(exit == 0, stderr + stdout);
        Assert.DoesNotContain('\u001b', stdout);
        var counts = stdout.Split('\n').Where(l => l.Contains(" label ", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[2].Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(10, counts.Count); // 40 questions: a line at 4, 8, ..., 40
        Assert.Equal(counts.Order(), counts);
        Assert.Equal(40, counts[^1]);
        Assert.Contains("labelled 20 pairs x 2 principles", stdout);
        Directory.Delete(dir, recursive: true);
    }
}
