using Morlaif.Learning.World;

namespace Morlaif.Learning.Tests.World;

public class WordTokenizerTests
{
    private static readonly WordTokenizer Tokenizer = new(Catalog.AllTexts());

    [Fact]
    public void Every_world_text_round_trips()
    {
        foreach (var text in Catalog.AllTexts()) Assert.Equal(text, Tokenizer.Decode(Tokenizer.Encode(text)));
    }

    [Fact]
    public void Pairs_are_laid_out_bos_prompt_sep_response_eos()
    {
        var (ids, start) = Tokenizer.EncodePair("what is the capital of france ?", "the capital of france is paris .");
        Assert.Equal(WordTokenizer.Bos, ids[0]);
        Assert.Equal(WordTokenizer.Sep, ids[start - 1]);
        Assert.Equal(WordTokenizer.Eos, ids[^1]);
        Assert.Equal("the capital of france is paris .", Tokenizer.Decode(ids[start..]));
    }

    [Fact]
    public void Unknown_words_map_to_unk_and_decode_skips_specials()
    {
        var ids = Tokenizer.Encode("paris zyzzyva");
        Assert.Equal(WordTokenizer.Unk, ids[1]);
        Assert.Equal("paris", Tokenizer.Decode(ids));
    }
}
