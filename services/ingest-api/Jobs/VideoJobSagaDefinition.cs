using MassTransit;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Jobs;

/// <summary>The saga's endpoint: messages for one job are serialised by the row lock, different jobs run in parallel.</summary>
public sealed class VideoJobSagaDefinition : SagaDefinition<VideoJobState>
{
    public const string Queue = "video-job";

    public VideoJobSagaDefinition()
    {
        EndpointName = Queue;
        ConcurrentMessageLimit = 16;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<VideoJobState> sagaConfigurator, IRegistrationContext context)
    {
        // PostgreSQL down or restarting: the message waits for it, unacknowledged in RabbitMQ, for as long as the
        // outage lasts (retrying in process keeps it so) instead of going to video-job_error once the tries below are
        // used up. Anything else is a real fault and is not retried here.
        endpointConfigurator.UseDatabaseOutageRetry();
        // Lock waits and version races are transient: run the message again.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Ignore<Exception>(DatabaseOutage.IsTransient);
            r.Intervals(50, 100, 250, 500, 1000, 2000);
        });
    }
}
