namespace Morlaif.Workers.Evaluator;

public sealed class EvaluateConsumerDefinition() : StageDefinition<EvaluateConsumer>(Endpoints.Evaluate, concurrency: 1);
