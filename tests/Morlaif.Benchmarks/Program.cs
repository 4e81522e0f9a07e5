using System.Diagnostics;
using System.Globalization;
using Morlaif.Feedback;
using Morlaif.Feedback.Datasets;
using Morlaif.Feedback.Judging;
using Morlaif.TestServers;

// Cases: "lora-memory" (LoRA principle PMs vs full copies at GPT-2-small size, see LoraMemory.cs), "speed" (each
// figure against this machine's limit: decoding, training, PM scoring, the world's run; see SpeedBenchmark.cs),
// "pm-scoring" (12 principle PMs sharing the frozen lower layers, with the accuracy task; see PmScoring.cs);
// otherwise the labeller's throughput.
if (args.FirstOrDefault() == "lora-memory")
{
    Morlaif.Benchmarks.LoraMemory.Run();
    return;
}
if (args.FirstOrDefault() == "pm-scoring")
{
    Morlaif.Benchmarks.PmScoring.Run(args[1..]);
    return;
}
if (args.FirstOrDefault() == "speed")
{
    Morlaif.Benchmarks.SpeedBenchmark.Run(args[1..]);
    return;
}

// Labeller throughput against a chat-completions server with a fixed latency L: with C requests in
// flight the ideal is C/L requests per second; the labeller's overhead is what it loses to that.
//   dotnet run -c Release --project tests/Morlaif.Benchmarks -- [latencyMs=100] [pairs=100] [concurrency...=1,4,16]
var latencyMs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var pairCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
var levels = args.Length > 2 ? args[2].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [1, 4, 16];
var principles = Principles.Paper.Take(2).ToList();
var pairs = Enumerable.Range(0, pairCount)
    .Select(i => new PreferenceExample($"\n\nHuman: question {i}?\n\nAssistant:", $"a good answer {i}", $"a poor answer {i}", i + 1)).ToList();

Console.WriteLine($"labeller throughput: {pairCount} pairs x {principles.Count} principles x 2 orders = {pairCount * principles.Count * 2} requests, server latency {latencyMs} ms");
Console.WriteLine("concurrency  requests/s  ideal C/L  fraction");
foreach (var c in levels)
{
    await using var server = new FakeChatServer(TimeSpan.FromMilliseconds(latencyMs)).Then(new FakeChatServer.PreferOption("good", 0.8));
    var judge = new ChatJudge(new ChatJudgeOptions { Endpoint = server.Endpoint, Model = "bench" });
    await new JudgeLabeller(judge).LabelAsync(pairs.Take(2).ToList(), principles, c); // warm-up: JIT, connections
    var before = server.Requests;
    var clock = Stopwatch.StartNew();
    await new JudgeLabeller(judge).LabelAsync(pairs, principles, c);
    var rate = (server.Requests - before) / clock.Elapsed.TotalSeconds;
    var ideal = c * 1000.0 / latencyMs;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c,11}  {rate,10:F1}  {ideal,9:F1}  {rate / ideal,8:F3}"));
}
