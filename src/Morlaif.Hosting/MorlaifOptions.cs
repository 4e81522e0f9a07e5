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

    public void Validate()
    {
        if (Transport is not ("rabbitmq" or "inmemory"))
            throw new ArgumentException($"Morlaif:Transport '{Transport}' is not rabbitmq or inmemory");
        if (Storage is not ("azure" or "local"))
            throw new ArgumentException($"Morlaif:Storage '{Storage}' is not azure or local");
    }
}
