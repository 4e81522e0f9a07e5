namespace Morlaif.Workers.Labeller;

public sealed class LabelConsumerDefinition() : StageDefinition<LabelConsumer>(Endpoints.Label, concurrency: 1);
