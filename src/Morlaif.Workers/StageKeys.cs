namespace Morlaif.Workers;

/// <summary>The manifest's stage keys, and the names `morlaif replay --stage` accepts.</summary>
public static class StageKeys
{
    public const string Sft = "sft";
    public const string Evaluate = "evaluate";
    public const string Scalarize = "scalarize";
    public static string Label(string question) => $"label/{question}";
    public static string TrainPm(string question) => $"train-pm/{question}";
    public static string Ppo(string arm) => $"ppo/{arm}";
    public static string PpoChunk(string arm, int iteration) => $"ppo/{arm}/{iteration:D4}";

    public static readonly string[] ReplayStages = ["sft", "label", "train-pm", "scalarize", "ppo", "evaluate"];
}
