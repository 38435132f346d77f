using MassTransit;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Consumers;

/// <summary>
/// ffmpeg reports several times a second per job; storing them a batch per transaction keeps commits (and
/// their NOTIFY) from becoming the bottleneck. Redelivered reports are dropped by the unique message id.
/// </summary>
public sealed class ProgressReportedConsumer(EventLog log) : IConsumer<Batch<ProgressReported>>
{
    public const int BatchSize = 100;

    public Task Consume(ConsumeContext<Batch<ProgressReported>> context) =>
        log.AppendProgressAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken);
}

public sealed class ProgressReportedConsumerDefinition : ConsumerDefinition<ProgressReportedConsumer>
{
    public ProgressReportedConsumerDefinition()
    {
        EndpointName = GatewayEndpoint.Name;
        Endpoint(e => e.PrefetchCount = ProgressReportedConsumer.BatchSize * 2);
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ProgressReportedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.Options<BatchOptions>(o => o
            .SetMessageLimit(ProgressReportedConsumer.BatchSize)
            // Short: under light load a batch never fills, and this wait is the floor of every event's latency.
            .SetTimeLimit(TimeSpan.FromMilliseconds(10))
            .SetConcurrencyLimit(2));
    }
}
