using MassTransit;

namespace Vidline.IngestApi.Jobs;

/// <summary>The saga's endpoint: messages for one job are serialised by the row lock, different jobs run in parallel.</summary>
public sealed class VideoJobSagaDefinition : SagaDefinition<VideoJobState>
{
    public VideoJobSagaDefinition()
    {
        EndpointName = "video-job";
        ConcurrentMessageLimit = 16;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<VideoJobState> sagaConfigurator, IRegistrationContext context)
    {
        // Lock waits and version races are transient: run the message again.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 100, 250, 500, 1000, 2000));
    }
}
