using Morlaif.Learning.HuggingFace;
using Morlaif.Storage;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Workers.Text;

/// <summary>
/// What a user takes away from a text run: an arm's trained policy as a Hugging Face folder (the SFT and PPO adapters
/// merged into the base, its tokenizer files), or a question's PM as its PEFT SEQ_CLS adapter folder with the score
/// head and its normaliser. Written aside and renamed into place: a failed export leaves no folder behind.
/// </summary>
public static class TextExport
{
    public static async Task PolicyAsync(TextStages text, RunArtifacts artifacts, RunManifest m, string arm, string outDir, CancellationToken cancel)
    {
        var ctx = await Context(artifacts, m, cancel);
        var final = StageKeys.FinalPpoChunk(ctx.Config, arm); // ArgumentException naming the run's arms when it has no such arm
        if (!PipelineDefinition.IsDone(m, final)) throw new InvalidOperationException($"run {m.RunId}: the {arm} policy is not trained yet ({final} is {m.Stages.GetValueOrDefault(final)?.State.ToString() ?? "not started"})");
        using var run = await text.RunAsync(m, ctx, cancel);
        using var model = run.LoadSftPolicy(await text.SftAdapterAsync(m, cancel));
        using (var policy = Learning.TextRuns.TextPpoStage.Policy(run, model, await artifacts.BytesAsync(m.Stages[final].Outputs[StageOutputs.Checkpoint], cancel),
                   ctx.Config.ForArm(ctx.Config.Arm(arm)).Ppo))
            policy.MergeIntoBase();
        WriteAside(outDir, tmp => HfModelFolder.Save(model, tmp, tokenizerSource: run.ModelFolder));
    }

    public static async Task PreferenceModelAsync(TextStages text, RunArtifacts artifacts, RunManifest m, string question, string outDir, CancellationToken cancel)
    {
        await Context(artifacts, m, cancel);
        var key = StageKeys.TrainPm(question);
        if (!m.Questions.Contains(question)) throw new ArgumentException($"run {m.RunId} has no PM '{question}' (its questions: {string.Join(", ", m.Questions)})");
        if (!PipelineDefinition.IsDone(m, key)) throw new InvalidOperationException($"run {m.RunId}: the PM '{question}' is not trained yet");
        var folder = await text.UnpackAsync(m.Stages[key].Outputs[StageOutputs.Model], cancel);
        WriteAside(outDir, tmp =>
        {
            foreach (var file in Directory.GetFiles(folder)) File.Copy(file, Path.Combine(tmp, Path.GetFileName(file)));
        });
    }

    private static async Task<Learning.Stages.RunContext> Context(RunArtifacts artifacts, RunManifest m, CancellationToken cancel)
    {
        var ctx = await artifacts.ContextAsync(m, cancel);
        return ctx.Config.Task == Learning.Runs.RunConfig.TextTask ? ctx : throw new ArgumentException($"run {m.RunId} is a synthetic-world run; export writes the models of text runs (\"task\": \"text\")");
    }

    private static void WriteAside(string outDir, Action<string> write)
    {
        outDir = Path.GetFullPath(outDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new ArgumentException($"'{outDir}' exists and is not empty; export writes a new folder");
        var tmp = $"{outDir.TrimEnd(Path.DirectorySeparatorChar)}.{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(tmp);
        try
        {
            write(tmp);
            if (Directory.Exists(outDir)) Directory.Delete(outDir);
            Directory.Move(tmp, outDir);
        }
        catch
        {
            Directory.Delete(tmp, recursive: true);
            throw;
        }
    }
}
