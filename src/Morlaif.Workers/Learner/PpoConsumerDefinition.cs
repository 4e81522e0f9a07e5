namespace Morlaif.Workers.Learner;

public sealed class PpoConsumerDefinition() : StageDefinition<PpoConsumer>(Endpoints.Ppo, concurrency: 1);
