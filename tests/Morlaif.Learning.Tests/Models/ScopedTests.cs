using Morlaif.Learning.Models;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Models;

public class ScopedTests
{
    [Fact]
    public void Temporaries_are_freed_at_the_end_and_the_result_goes_to_the_callers_scope()
    {
        Tensor? temporary = null;
        Tensor result;
        using (var outer = NewDisposeScope())
        {
            result = Scoped.Run(() =>
            {
                temporary = ones(3) * 2;
                return temporary.sum();
            });
            Assert.True(temporary!.IsInvalid);
            Assert.Equal(6f, result.item<float>());
            Assert.Contains(result, outer.DisposablesView);
        }
        Assert.True(result.IsInvalid);
    }

    [Fact]
    public void Without_a_callers_scope_the_result_belongs_to_the_caller()
    {
        var (loss, count) = Scoped.Run(() => (ones(4).sum(), 4L));
        using (loss)
        {
            Assert.False(loss.IsInvalid);
            Assert.Equal(4f, loss.item<float>());
            Assert.Equal(4L, count);
        }
    }
}
