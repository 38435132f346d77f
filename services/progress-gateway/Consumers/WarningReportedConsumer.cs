using MassTransit;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Consumers;

public sealed class WarningReportedConsumer(EventLog log) : IConsumer<WarningReported>
{
    public Task Consume(ConsumeContext<WarningReported> context) =>
        log.AppendWarningAsync(context.Message, context.CancellationToken);
}

public sealed class WarningReportedConsumerDefinition : ConsumerDefinition<WarningReportedConsumer>
{
    public WarningReportedConsumerDefinition() => EndpointName = GatewayEndpoint.Name;
}
