using Morlaif.Learning.Runs;
using NativeTokenizer = Tokenizers.DotNet.Tokenizer;
using NativeTokenizerException = Tokenizers.DotNet.TokenizerException;

namespace Morlaif.Learning.HuggingFace.Tokenization;

/// <summary>
/// A Hugging Face checkpoint's tokenizer, read from the folder's own files (never a built-in vocabulary):
/// tokenizer.json, or the older vocab.json + merges.txt (GPT-2 byte-level BPE), with the special tokens of
/// tokenizer_config.json / special_tokens_map.json / config.json.
/// </summary>
/// <remarks>
/// Library: Tokenizers.DotNet, a thin wrapper over Hugging Face's own Rust <c>tokenizers</c> (0.22.2 in 1.4.1),
/// which reads any tokenizer.json as transformers does: GPT-2's and Llama 3's / Qwen2's byte-level BPE with their
/// Split regexes and NFC normalizer, SentencePiece-derived BPE with byte fallback (Llama 2, TinyLlama), Unigram,
/// WordPiece, added tokens. Microsoft.ML.Tokenizers 2.0 has managed BPE / Tiktoken / SentencePiece models but no
/// reader for an arbitrary tokenizer.json, so each checkpoint family would need its own hand-mapped setup and
/// would be a second implementation to keep in step with Hugging Face's.
/// The wrapper exposes only encode (always with add_special_tokens=True), decode (always skipping special
/// tokens) and loading from a file path; so the native tokenizer loads a copy without the post-processor, and
/// the special tokens the post-processor (or add_bos_token / add_eos_token) puts around a text are added here,
/// from the same file; token/id lookups are read here from the vocabulary too.
/// </remarks>
public sealed class PreTrainedTokenizer : IDisposable
{
    private readonly NativeTokenizer _native;
    private readonly Vocabulary _vocabulary;

    /// <summary>The file the encoding comes from: "tokenizer.json" or "vocab.json + merges.txt".</summary>
    public string Source { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    /// <summary>pad_token, or eos when the files set none (see <see cref="SpecialTokens"/>).</summary>
    public int? PadId { get; }
    public int? UnkId { get; }
    /// <summary>Ids that end generation: eos and every eos_token_id config.json lists.</summary>
    public IReadOnlyList<int> StopIds { get; }
    /// <summary>Ids put before a text encoded with special tokens (BOS where the files say so).</summary>
    public IReadOnlyList<int> PrefixIds { get; }
    /// <summary>Ids put after it (EOS where add_eos_token or the template says so).</summary>
    public IReadOnlyList<int> SuffixIds { get; }
    public bool AddsBos => BosId is { } bos && PrefixIds.Contains(bos);
    /// <summary>One more than the largest id, added tokens included.</summary>
    public int VocabSize { get; }

    private PreTrainedTokenizer(NativeTokenizer native, Vocabulary vocabulary, string source, SpecialTokens specials, int[] prefix, int[] suffix)
    {
        _native = native;
        _vocabulary = vocabulary;
        VocabSize = vocabulary.Size;
        Source = source;
        (BosId, EosId, PadId, UnkId, StopIds) = (specials.BosId, specials.EosId, specials.PadId, specials.UnkId, specials.StopIds);
        PrefixIds = prefix;
        SuffixIds = suffix;
    }

    /// <summary>Loads the tokenizer of a checkpoint folder; a folder it cannot read is one <see cref="ConfigException"/>.</summary>
    public static PreTrainedTokenizer FromPretrained(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ConfigException($"{folder}: no such folder");
        var temp = Path.Combine(Path.GetTempPath(), $"morlaif-tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            Vocabulary vocabulary;
            PostProcessorTemplate template;
            string source, file;
            if (TokenizerFiles.Exists(folder, TokenizerJson.File))
            {
                using var doc = TokenizerFiles.ReadOptional(folder, TokenizerJson.File)!;
                if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                    throw TokenizerFiles.Error(folder, TokenizerJson.File, "must be a JSON object");
                (vocabulary, template) = TokenizerJson.Read(folder, doc.RootElement);
                TokenizerJson.WriteWithoutPostProcessor(doc.RootElement, temp);
                (source, file) = (TokenizerJson.File, TokenizerJson.File);
            }
            else if (TokenizerFiles.Exists(folder, Gpt2Converter.VocabFile) && TokenizerFiles.Exists(folder, Gpt2Converter.MergesFile))
            {
                vocabulary = Gpt2Converter.Convert(folder, temp);
                // GPT2Converter's post-processor is ByteLevel: nothing added unless add_bos_token says so.
                template = PostProcessorTemplate.None;
                (source, file) = ($"{Gpt2Converter.VocabFile} + {Gpt2Converter.MergesFile}", Gpt2Converter.VocabFile);
            }
            else
            {
                throw new ConfigException(TokenizerFiles.Exists(folder, Gpt2Converter.VocabFile)
                    ? $"{TokenizerFiles.Name(folder, Gpt2Converter.VocabFile)}: no {Gpt2Converter.MergesFile} beside it (and no {TokenizerJson.File})"
                    : $"{folder}: no {TokenizerJson.File} or {Gpt2Converter.VocabFile} + {Gpt2Converter.MergesFile}");
            }

            var specials = SpecialTokens.Read(folder, vocabulary.Id, source);
            var (prefix, suffix) = Specials(folder, template, specials);
            NativeTokenizer native;
            try
            {
                native = new NativeTokenizer(temp);
            }
            catch (NativeTokenizerException e)
            {
                throw TokenizerFiles.Error(folder, file, e.Message);
            }
            catch (DllNotFoundException e)
            {
                throw new InvalidOperationException($"Hugging Face's tokenizers library (libhf_tokenizers, package Tokenizers.DotNet.runtime.linux-x64) did not load: {e.Message}", e);
            }
            CheckAddedTokenIds(folder, source, native, vocabulary);
            return new PreTrainedTokenizer(native, vocabulary, source, specials, prefix, suffix);
        }
        finally
        {
            // The native tokenizer has read the whole file by now.
            File.Delete(temp);
        }
    }

    /// <summary>
    /// The native library takes the ids of added tokens from their order, after the vocabulary, and only warns
    /// when a file says otherwise; the special token ids here are read from the files, so they must agree.
    /// </summary>
    private static void CheckAddedTokenIds(string folder, string source, NativeTokenizer native, Vocabulary vocabulary)
    {
        foreach (var (content, id) in vocabulary.Added)
        {
            if (native.Encode(content) is [var actual] && actual != id)
            {
                native.Dispose();
                throw TokenizerFiles.Error(folder, source, $"added token '{content}' has id {id} there but {actual} in the tokenizer " +
                    "(added tokens outside the vocabulary must take the ids after it, in order)");
            }
        }
    }

    /// <summary>
    /// The template's special tokens, where tokenizer_config.json's add_bos_token / add_eos_token override the
    /// BOS / EOS part of it as transformers does (it rebuilds the post-processor from them); absent, the
    /// template stands.
    /// </summary>
    private static (int[] Prefix, int[] Suffix) Specials(string folder, PostProcessorTemplate template, SpecialTokens specials)
    {
        int[] Apply(int[] ids, bool? add, int? id, string field, string token, bool front)
        {
            if (add is not { } on)
                return ids;
            if (id is not { } special)
                return on ? throw TokenizerFiles.Error(folder, SpecialTokens.TokenizerConfig, $"{field} is true but no {token} is set") : ids;
            var rest = ids.Where(i => i != special);
            return !on ? [.. rest] : front ? [special, .. rest] : [.. rest, special];
        }
        return (Apply(template.Prefix, specials.AddBosToken, specials.BosId, "add_bos_token", "bos_token", front: true),
                Apply(template.Suffix, specials.AddEosToken, specials.EosId, "add_eos_token", "eos_token", front: false));
    }

    /// <summary>Text to ids; with <paramref name="addSpecialTokens"/>, the prefix (BOS) and suffix the files ask for.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _native.Encode(text);
        var body = Array.ConvertAll(ids, id => checked((int)id));
        return addSpecialTokens ? [.. PrefixIds, .. body, .. SuffixIds] : body;
    }

    /// <summary>A prompt to continue: the prefix (BOS where the files say so) and the text, never the suffix (an EOS would end it).</summary>
    public int[] EncodePrompt(string text) => [.. PrefixIds, .. Encode(text, addSpecialTokens: false)];

    /// <summary>
    /// A prompt with a finished response, as every stage builds one (SFT demonstrations, the human pairs of the weight
    /// fit): the prompt as <see cref="EncodePrompt"/> gives it, the response without special tokens, and the eos a
    /// sampled response ends with when it stopped. The PMs learn from sampled sequences and their score head reads the
    /// last token: a human pair scored without the eos is read at a position no PM was trained on (a conciseness PM of
    /// held-out accuracy 1.0 got a negative weight that way).
    /// </summary>
    public int[] EncodeCompleted(string prompt, string response) =>
        [.. EncodePrompt(prompt), .. Encode(response, addSpecialTokens: false), .. EosId is { } eos ? [eos] : Array.Empty<int>()];

    /// <summary>Ids to text, leaving out special tokens (BOS, EOS, pad), as the native library always does.</summary>
    public string Decode(IEnumerable<int> ids) =>
        _native.Decode([.. ids.Select(id => id >= 0 ? (uint)id : throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is negative"))]);

    public int? TokenToId(string token) => _vocabulary.Id(token);

    public string? IdToToken(int id) => _vocabulary.Token(id);

    public void Dispose() => _native.Dispose();
}
