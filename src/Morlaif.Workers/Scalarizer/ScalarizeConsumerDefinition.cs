namespace Morlaif.Workers.Scalarizer;

public sealed class ScalarizeConsumerDefinition() : StageDefinition<ScalarizeConsumer>(Endpoints.Scalarize, concurrency: 1);
