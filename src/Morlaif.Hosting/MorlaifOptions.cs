namespace Morlaif.Hosting;

/// <summary>Bound from the "Morlaif" configuration section (appsettings, or MORLAIF__* environment variables).</summary>
public sealed class MorlaifOptions
{
    /// <summary>"rabbitmq" (default for the worker hosts) or "inmemory" (everything in one process).</summary>
    public string Transport { get; set; } = "rabbitmq";

    /// <summary>"azure" (Blob Storage or Azurite, by connection string "blobs") or "local" (a folder).</summary>
    public string Storage { get; set; } = "azure";

    /// <summary>The folder of local storage.</summary>
    public string LocalRoot { get; set; } = "morlaif-data";

    /// <summary>"cpu" or "cuda[:N]".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Stage messages each endpoint of this process works on at once, torch's threads shared out among them. 1 (the
    /// default) suits models that fill the machine's cores on their own; the synthetic world's 0.1M-parameter models do
    /// not, and the in-process run trains its PMs and PPO arms side by side instead (EmbeddedPipeline).
    /// </summary>
    public int StageConcurrency { get; set; } = 1;

    public void Validate()
    {
        if (StageConcurrency < 1)
            throw new ArgumentException($"Morlaif:StageConcurrency must be 1 or more (got {StageConcurrency})");
        if (Transport is not ("rabbitmq" or "inmemory"))
            throw new ArgumentException($"Morlaif:Transport '{Transport}' is not rabbitmq or inmemory");
        if (Storage is not ("azure" or "local"))
            throw new ArgumentException($"Morlaif:Storage '{Storage}' is not azure or local");
    }
}
