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

    /// <summary>The health probes' port (Morlaif:Health:Port); none are served when unset.</summary>
    public HealthSettings Health { get; set; } = new();

    /// <summary>
    /// How long a host that is asked to stop (SIGTERM: a scale-in, a rollout) waits for the message in hand before it
    /// exits: long enough for a PM trainer or PPO learner to finish and checkpoint the epoch or iteration it is in. Keep it
    /// below the orchestrator's grace period (Kubernetes' terminationGracePeriodSeconds), which ends in SIGKILL.
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public void Validate()
    {
        Health.Validate();
        if (ShutdownTimeoutSeconds < 1)
            throw new ArgumentException($"Morlaif:ShutdownTimeoutSeconds must be 1 or more (got {ShutdownTimeoutSeconds})");
        if (StageConcurrency < 1)
            throw new ArgumentException($"Morlaif:StageConcurrency must be 1 or more (got {StageConcurrency})");
        if (Transport is not ("rabbitmq" or "inmemory"))
            throw new ArgumentException($"Morlaif:Transport '{Transport}' is not rabbitmq or inmemory");
        if (Storage is not ("azure" or "local"))
            throw new ArgumentException($"Morlaif:Storage '{Storage}' is not azure or local");
    }
}
