using System.Security.Cryptography;
using System.Text.Json;
using Morlaif.Contracts;
using Morlaif.Learning.HuggingFace;
using Morlaif.Learning.Runs;
using Morlaif.Storage;

namespace Morlaif.Workers.Text;

/// <summary>
/// A text run's inputs in the artifact store, so that workers on other machines need only the connection strings:
/// the starter puts the model folders (file by file, content-addressed and shared by every run: a file stored before
/// is not uploaded again) and the drawn data; a worker gets a folder back as a local copy, downloaded once per machine
/// into <see cref="CacheRoot"/> and verified on the way (every artifact is checked against its hash).
/// </summary>
public sealed class TextRunStore(IArtifactStore store, string cacheRoot)
{
    /// <summary>The store's shared space for inputs: content-addressed, so one model serves every run that names it.</summary>
    public const string InputsScope = "inputs";

    public const string Model = "model", PmModel = "pm-model", Data = "data";

    /// <summary>Files of a model folder larger than this are refused by name: the store's artifacts are single byte arrays.</summary>
    public const long MaxFileBytes = int.MaxValue - 64;

    public string CacheRoot { get; } = cacheRoot;

    /// <summary>The default cache of model folders on this machine.</summary>
    public static string DefaultCacheRoot => Path.Combine(Path.GetTempPath(), "morlaif-inputs");

    /// <summary>
    /// Reads and checks the run's files (<see cref="TextRunInputs"/>), then stores the model folders and the data.
    /// Returns the manifest's inputs and the number of bytes actually uploaded (0 when everything was stored before).
    /// </summary>
    public static async Task<(SortedDictionary<string, ArtifactReference> Inputs, long Uploaded)> PutAsync(IArtifactStore store, RunConfig config, CancellationToken cancel)
    {
        var inputs = TextRunInputs.Read(config);
        var refs = new SortedDictionary<string, ArtifactReference>(StringComparer.Ordinal);
        long uploaded = 0;
        (refs[Model], var bytes) = await PutFolderAsync(store, config.Model.Path!, cancel);
        uploaded += bytes;
        if (config.Model.PmPath is { } pm && Path.GetFullPath(pm) != Path.GetFullPath(config.Model.Path!))
        {
            (refs[PmModel], bytes) = await PutFolderAsync(store, pm, cancel);
            uploaded += bytes;
        }
        refs[Data] = await store.PutAsync(InputsScope, "text-data", inputs.ToData().ToJson(), cancel);
        return (refs, uploaded);
    }

    /// <summary>Every file of a flat Hugging Face folder, then its listing (file name to artifact) as the folder's reference.</summary>
    private static async Task<(ArtifactReference Listing, long Uploaded)> PutFolderAsync(IArtifactStore store, string folder, CancellationToken cancel)
    {
        var listing = new SortedDictionary<string, ArtifactReference>(StringComparer.Ordinal);
        long uploaded = 0;
        foreach (var path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.')) continue; // .gitattributes and the like: not part of the model
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new ConfigException($"{path}: {length / (1 << 20)} MiB; files over 2 GiB cannot be stored yet (save the model with smaller shards)");
            var content = await File.ReadAllBytesAsync(path, cancel);
            var reference = ArtifactNames.Reference(InputsScope, "model-file", content);
            if (!await store.ExistsAsync(reference, cancel))
            {
                await store.PutAsync(InputsScope, "model-file", content, cancel);
                uploaded += content.LongLength;
            }
            listing[name] = reference;
        }
        return (await store.PutAsync(InputsScope, "model-folder", JsonSerializer.SerializeToUtf8Bytes(listing), cancel), uploaded);
    }

    /// <summary>The local copy of a stored model folder (downloaded and verified once, then reused).</summary>
    public Task<string> FolderAsync(ArtifactReference listing, CancellationToken cancel) =>
        LocalCopyAsync("models", listing, async (bytes, dir) =>
        {
            var files = JsonSerializer.Deserialize<SortedDictionary<string, ArtifactReference>>(bytes)
                        ?? throw new InvalidDataException($"model folder listing {listing.Name} is empty");
            foreach (var (name, file) in files)
            {
                if (name != Path.GetFileName(name)) throw new InvalidDataException($"model folder listing {listing.Name}: '{name}' is not a file name");
                await File.WriteAllBytesAsync(Path.Combine(dir, name), await store.GetAsync(file, cancel), cancel);
            }
        }, cancel);

    /// <summary>The local copy of a stored <see cref="FolderArchive"/> (an adapter, a PM).</summary>
    public Task<string> UnpackAsync(ArtifactReference archive, CancellationToken cancel) =>
        LocalCopyAsync("archives", archive, (bytes, dir) =>
        {
            FolderArchive.Unpack(bytes, dir);
            return Task.CompletedTask;
        }, cancel);

    /// <summary>
    /// &lt;cache&gt;/&lt;kind&gt;/&lt;sha256&gt;: filled in a folder of its own and renamed into place, so a copy that exists is
    /// complete (two workers on one machine may both fill one; the first rename wins).
    /// </summary>
    private async Task<string> LocalCopyAsync(string kind, ArtifactReference reference, Func<byte[], string, Task> fill, CancellationToken cancel)
    {
        var target = Path.Combine(CacheRoot, kind, reference.Sha256);
        if (Directory.Exists(target)) return target;
        var bytes = await store.GetAsync(reference, cancel);
        var tmp = $"{target}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp";
        Directory.CreateDirectory(tmp);
        try
        {
            await fill(bytes, tmp);
            Directory.Move(tmp, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            Directory.Delete(tmp, recursive: true);
        }
        catch
        {
            Directory.Delete(tmp, recursive: true);
            throw;
        }
        return target;
    }
}
