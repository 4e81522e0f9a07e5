using System.Text.Json;
using Morlaif.Feedback;
using Morlaif.Feedback.Judging;
using Morlaif.Storage;

namespace Morlaif.Workers.Labeller;

/// <summary>Judge answers cached in the artifact store (cache/judge/&lt;key&gt;): a replay or a rerun never pays twice for a question.</summary>
public sealed class ArtifactJudgeCache(IArtifactStore store) : IJudgeCache
{
    private const string Scope = "judge";

    public async Task<JudgeAnswer?> GetAsync(string key, CancellationToken cancel) =>
        await store.GetCachedAsync(Scope, key, cancel) is { } bytes ? JsonSerializer.Deserialize<JudgeAnswer>(bytes) : null;

    public Task PutAsync(string key, JudgeAnswer answer, CancellationToken cancel) =>
        store.PutCachedAsync(Scope, key, JsonSerializer.SerializeToUtf8Bytes(answer), cancel);
}
