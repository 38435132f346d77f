using MassTransit;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Consumers;

/// <summary>The saga's snapshot of a job: updates the row and becomes a <c>stage</c> or <c>done</c> event.</summary>
public sealed class JobStatusChangedConsumer(EventLog log) : IConsumer<JobStatusChanged>
{
    public Task Consume(ConsumeContext<JobStatusChanged> context)
    {
        GatewayMetrics.JobStatusChanges.Add(1, new KeyValuePair<string, object?>("status", context.Message.Status));
        return log.ApplyStatusAsync(context.Message, context.CancellationToken);
    }
}

public sealed class JobStatusChangedConsumerDefinition : ConsumerDefinition<JobStatusChangedConsumer>
{
    public JobStatusChangedConsumerDefinition() => EndpointName = GatewayEndpoint.Name;
}
