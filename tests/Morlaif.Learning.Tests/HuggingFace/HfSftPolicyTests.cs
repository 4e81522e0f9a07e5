using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.HuggingFace.Tokenization;
using Morlaif.Learning.Training;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.HuggingFace;

public class HfSftPolicyTests
{
    private static readonly int[] Ids = [5, 17, 3, 88, 41, 9, 62, 30];

    /// <summary>The mean of -log p(token t | tokens before t) over t in [from, Ids.Length), from one unpadded forward pass.</summary>
    private static double ManualLoss(HfCausalLm model, int[] ids, int from)
    {
        using var _ = no_grad();
        var input = tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var logp = model.Forward(input, ones_like(input, ScalarType.Bool))[0].log_softmax(-1);
        var sum = 0.0;
        for (var t = from; t < ids.Length; t++) sum -= logp[t - 1, ids[t]].item<float>();
        return sum / (ids.Length - from);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_loss_is_the_mean_over_response_tokens_only(bool gpt2)
    {
        using var model = TinyHf.Model(gpt2 ? TinyHf.Gpt2Config() : TinyHf.LlamaConfig(), seed: 3);
        var (loss, count) = SupervisedFineTuning.Loss(HfSftPolicy.Full(model), [new Demonstration(Ids, 5)]);
        Assert.Equal(3, count);
        Assert.Equal(ManualLoss(model, Ids, 5), loss.item<float>(), 4);
        // Prompt positions would change it: this model's loss over all tokens is far from the response-only one.
        Assert.True(Math.Abs(ManualLoss(model, Ids, 1) - loss.item<float>()) > 1e-2);
    }

    [Fact]
    public void Padding_a_batch_changes_nothing_each_token_counts_once()
    {
        using var model = TinyHf.Model(TinyHf.Gpt2Config(), seed: 5);
        var shorter = Ids[..6];
        var (batchLoss, count) = SupervisedFineTuning.Loss(HfSftPolicy.Full(model), [new Demonstration(Ids, 4), new Demonstration(shorter, 2)]);
        Assert.Equal(4 + 4, count);
        var expected = (ManualLoss(model, Ids, 4) * 4 + ManualLoss(model, shorter, 2) * 4) / 8;
        Assert.Equal(expected, batchLoss.item<float>(), 4);
    }

    [Fact]
    public void Training_lowers_the_loss_and_a_seed_fixes_the_run()
    {
        var demos = Enumerable.Range(0, 6).Select(i => new Demonstration([.. Ids.Select(t => (t + i) % TinyHf.Vocab)], 3)).ToList();
        List<double> Run(long seed)
        {
            using var model = TinyHf.Model(TinyHf.LlamaConfig(), seed: 6);
            return SupervisedFineTuning.Train(HfSftPolicy.Full(model), demos, SftSettings.Constant(epochs: 5, batchSize: 2, learningRate: 3e-3), new Random((int)seed))
                .Select(l => l.LossPerToken).ToList();
        }
        var losses = Run(1);
        Assert.True(losses[^1] < 0.7 * losses[0], string.Join(", ", losses));
        Assert.Equal(losses, Run(1));
        Assert.NotEqual(losses[1], Run(2)[1]);
    }

    [Fact]
    public void A_demonstration_is_prefix_prompt_completion_eos_cut_to_max_length()
    {
        using var temp = new TinyHf.TempFolder();
        using var tokenizer = PreTrainedTokenizer.FromPretrained(CheckpointFolders.Write("llama", temp));
        var prompt = tokenizer.Encode("Q: hi?", addSpecialTokens: false);
        var completion = tokenizer.Encode(" A: hello.", addSpecialTokens: false);
        var demo = HfSftPolicy.Demonstrate(tokenizer, "Q: hi?", " A: hello.", 100)!.Value;
        Assert.Equal([tokenizer.BosId!.Value, .. prompt, .. completion, tokenizer.EosId!.Value], demo.Ids);
        Assert.Equal(1 + prompt.Length, demo.ResponseStart);

        var cut = HfSftPolicy.Demonstrate(tokenizer, "Q: hi?", " A: hello.", prompt.Length + 3)!.Value;
        Assert.Equal(demo.Ids[..(prompt.Length + 3)], cut.Ids);
        Assert.Null(HfSftPolicy.Demonstrate(tokenizer, "Q: hi?", " A: hello.", prompt.Length + 1));

        var text = HfSftPolicy.Demonstrate(tokenizer, "", "plain text", 100)!.Value;
        Assert.Equal(1, text.ResponseStart); // everything after BOS is trained on
    }
}
