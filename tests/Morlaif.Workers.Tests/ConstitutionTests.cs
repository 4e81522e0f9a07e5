using Morlaif.Feedback;
using Morlaif.Learning.World;

namespace Morlaif.Workers.Tests;

public class ConstitutionTests
{
    [Fact]
    public void The_worlds_meanings_are_the_judges_principles_in_the_same_order()
    {
        // Both judges draw the same index for a pair, so a real judge asked about a world run reads the phrase whose meaning
        // the synthetic judge scores.
        Assert.Equal(Principles.Constitution.Select(p => p.Name), Constitution.Principles.Select(m => m.Name));
    }
}
