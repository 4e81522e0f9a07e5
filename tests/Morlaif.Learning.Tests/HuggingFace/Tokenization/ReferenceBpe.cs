using System.Diagnostics;
using System.Text.Json;

namespace Morlaif.Learning.Tests.HuggingFace.Tokenization;

/// <summary>
/// tests/reference/bpe_reference.py, run as a child process: an independent byte-level / SentencePiece-style BPE
/// written from the algorithm, not from Hugging Face's code. It also learns the tiny vocabularies the tests use
/// (learning merges is not what is under test; encoding with them is).
/// </summary>
internal static class ReferenceBpe
{
    /// <summary>Text the vocabularies are learned from: words, contractions, digits, accents, CJK, emoji.</summary>
    public const string Corpus =
        "Hello world! It's the café's über-test: 123 456 7890. We'll see, they're sure I'd've done it.\n" +
        "中文测试 and emoji 🙂🚀 in the world, hello again: the the the théâtre Zürich 2024.\n" +
        "The quick brown fox jumps over the lazy dog; THE DOG'S BARK isn't loud, you'll hear.\n" +
        "Numbers like 3.14159 and 2,718 or 1000000 appear; naïve façade, Straße, Ångström.\n";

    private static readonly Lazy<string> Trained = new(Train);

    /// <summary>A folder with vocab.json + merges.txt learned byte-level (GPT-2 layout).</summary>
    public static string ByteLevelDir => Path.Combine(Trained.Value, "bytelevel");

    /// <summary>A folder with the SentencePiece-style vocabulary (▁, &lt;0xXX&gt; byte tokens, &lt;unk&gt; &lt;s&gt; &lt;/s&gt;).</summary>
    public static string SentencePieceDir => Path.Combine(Trained.Value, "sentencepiece");

    private static string Train()
    {
        var root = TokenizerFolder.TempDir("morlaif-bpe-ref-");
        var corpus = Path.Combine(root, "corpus.txt");
        File.WriteAllText(corpus, Corpus);
        foreach (var kind in new[] { "bytelevel", "sentencepiece" })
        {
            var dir = Directory.CreateDirectory(Path.Combine(root, kind)).FullName;
            Run("train-" + kind, corpus, "150", dir);
        }
        return root;
    }

    /// <summary>The reference's ids for each text.</summary>
    public static int[][] Encode(object spec)
    {
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-bpe-spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(spec));
        try
        {
            return JsonSerializer.Deserialize<int[][]>(Run("encode", path))!;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Run(params string[] args)
    {
        // Debian's interpreter, where tests/reference/install.sh puts regex (a python3 on PATH may be another one).
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bpe_reference.py {args[0]} failed ({process.ExitCode}); it needs /usr/bin/python3 and its regex module " +
                $"(bash tests/reference/install.sh):\n{stderr.Result}");
        return stdout;
    }

    private static string Script
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "reference", "bpe_reference.py");
                if (File.Exists(candidate))
                    return candidate;
            }
            throw new FileNotFoundException("tests/reference/bpe_reference.py not found above " + AppContext.BaseDirectory);
        }
    }
}
