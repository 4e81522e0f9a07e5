using System.Text.Json;
using System.Runtime.Serialization;
using Morlaif.Workers.Monitoring;

namespace Morlaif.Workers.Tests;

// Which receive faults mean "this body does not match its contract" (the run it names is Faulted) and
// which do not. The end-to-end cases, over RabbitMQ, are in the integration tests' BadMessageTests.
public class ContractFaultTests
{
    [Fact]
    public void A_body_MassTransit_could_not_deserialize_is_a_contract_mismatch()
    {
        // As MassTransit reports it: its SerializationException around System.Text.Json's error, raised
        // inside MassTransit before any consumer ran.
        var fault = new SerializationException("An exception occurred while deserializing the message envelope",
            new JsonException("'x' is an invalid start of a value."));
        Assert.True(ContractFaultObserver.IsContractMismatch(fault));
        Assert.True(ContractFaultObserver.IsContractMismatch(new AggregateException(new JsonException("missing required properties"))));
    }

    [Fact]
    public void A_receive_cancelled_by_a_broker_restart_is_not_a_contract_mismatch()
    {
        // CI saw this: RabbitMQ stopping mid-receive raised TaskCanceledException through ReceiveFault, and
        // the run was marked Faulted although the message was redelivered after the restart.
        Assert.False(ContractFaultObserver.IsContractMismatch(new TaskCanceledException("A task was canceled.")));
        Assert.False(ContractFaultObserver.IsContractMismatch(new OperationCanceledException()));
    }

    [Fact]
    public void A_JSON_error_thrown_by_the_projects_own_code_is_the_consumers_fault_not_the_contracts()
    {
        // A consumer that fails to parse an artifact raises JsonException from this project's code; its
        // Fault<T> names the run and stage, so the observer leaves it alone.
        var thrown = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<int[]>("{not json"));
        Assert.False(ContractFaultObserver.IsContractMismatch(thrown));
        Assert.False(ContractFaultObserver.IsContractMismatch(new SerializationException("consumer", thrown)));
    }
}
