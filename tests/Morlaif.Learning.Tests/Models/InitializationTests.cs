using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Models;

// Runs alone: it seeds libtorch's process-wide generator, which any module constructed at the same time draws from.
[Collection(nameof(ProcessWideTorchState))]
public class InitializationTests
{
    private static void AssertSameWeights(PolicyModel expected, PolicyModel actual, bool equal = true)
    {
        var a = expected.named_parameters().ToList();
        var b = actual.named_parameters().ToList();
        Assert.Equal(a.Select(p => p.name), b.Select(p => p.name));
        var same = a.Zip(b).All(x => x.First.parameter.eq(x.Second.parameter).all().item<bool>());
        Assert.True(same == equal, equal ? "weights differ" : "weights are equal");
    }

    [Fact]
    public void A_seeded_policy_has_the_weights_of_manual_seed_then_construction()
    {
        // Runs measured before the seeded initialisation existed keep their numbers.
        manual_seed(1234);
        var classic = new PolicyModel(Tiny.Config(dModel: 32, layers: 2));
        AssertSameWeights(classic, PolicyModel.Initialized(Tiny.Config(dModel: 32, layers: 2), 1234));
    }

    [Fact]
    public async Task A_seeded_policy_depends_on_its_seed_alone_even_while_other_threads_draw_from_the_global_generator()
    {
        var reference = PolicyModel.Initialized(Tiny.Config(), 7);
        using var stop = new CancellationTokenSource();
        var draws = 0;
        var noise = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                manual_seed(99);
                using var _ = new PolicyModel(Tiny.Config()); // draws from the process-wide generator
                Interlocked.Increment(ref draws);
            }
        });
        while (Volatile.Read(ref draws) == 0 && !noise.IsCompleted) await Task.Delay(1);
        // Build until the other thread has drawn several times while we were building.
        var before = Volatile.Read(ref draws);
        var built = new List<PolicyModel>();
        while ((built.Count < 4 || Volatile.Read(ref draws) < before + 4) && !noise.IsCompleted)
            built.Add(PolicyModel.Initialized(Tiny.Config(), 7));
        stop.Cancel();
        await noise;
        Assert.True(draws >= before + 4, "the other thread did not draw while the policies were built");
        foreach (var policy in built) AssertSameWeights(reference, policy);
        AssertSameWeights(reference, PolicyModel.Initialized(Tiny.Config(), 8), equal: false);
    }
}
