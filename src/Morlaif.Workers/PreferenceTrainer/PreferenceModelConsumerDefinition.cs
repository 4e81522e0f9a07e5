namespace Morlaif.Workers.PreferenceTrainer;

public sealed class PreferenceModelConsumerDefinition() : StageDefinition<PreferenceModelConsumer>(Endpoints.TrainPm, concurrency: 1);
