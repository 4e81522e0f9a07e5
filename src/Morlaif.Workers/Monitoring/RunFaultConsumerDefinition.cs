using MassTransit;

namespace Morlaif.Workers.Monitoring;

public sealed class RunFaultConsumerDefinition : ConsumerDefinition<RunFaultConsumer>
{
    public RunFaultConsumerDefinition() => EndpointName = Endpoints.RunFaults;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RunFaultConsumer> consumerConfigurator,
        IRegistrationContext context) => endpointConfigurator.UseMessageRetry(r => r.Intervals(200, 1000, 5000));
}
