namespace Morlaif.Workers.Learner;

public sealed class SftConsumerDefinition() : StageDefinition<SftConsumer>(Endpoints.Sft, concurrency: 1);
