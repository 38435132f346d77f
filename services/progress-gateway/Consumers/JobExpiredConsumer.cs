using MassTransit;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Consumers;

/// <summary>The job outlived its retention (ingest-api decides when): forget its row and, with it, its events.</summary>
public sealed class JobExpiredConsumer(EventLog log) : IConsumer<JobExpired>
{
    public Task Consume(ConsumeContext<JobExpired> context) => log.ForgetJobAsync(context.Message.JobId, context.CancellationToken);
}

public sealed class JobExpiredConsumerDefinition : ConsumerDefinition<JobExpiredConsumer>
{
    public JobExpiredConsumerDefinition() => EndpointName = GatewayEndpoint.Name;
}
