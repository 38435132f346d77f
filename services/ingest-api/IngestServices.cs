using MassTransit;
using Microsoft.Extensions.Options;
using Vidline.IngestApi.Apis;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;

namespace Vidline.IngestApi;

public static class IngestServices
{
    /// <summary>Options, the upload path, the sweeps over the saga table and the outbox's dispatcher.</summary>
    public static WebApplicationBuilder AddIngest(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<UploadOptions>(builder.Configuration.GetSection("Upload"));
        services.Configure<StagePolicy>(builder.Configuration.GetSection("Stages"));
        services.Configure<RetentionOptions>(builder.Configuration.GetSection("Retention"));
        services.Configure<OutboxOptions>(builder.Configuration.GetSection("Outbox"));
        // The upload is the first stage: it beats like the others do.
        services.Configure<StageWorkOptions>(builder.Configuration.GetSection("StageWork"));
        services.AddProgressOutbox();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<StagePolicy>>().Value);
        services.AddScoped<UploadReceiver>();
        services.AddOutageAnswers(IngestOutages.ReasonFor);
        services.AddSingleton<IdempotencyKeys>();
        services.AddHostedService<StalledStageSweep>();
        services.AddHostedService<JobRetention>();
        // The saga's messages leave through the outbox (written in the saga's transaction, delivered after commit).
        services.AddSingleton<Outbox>();
        services.AddSingleton<OutboxSignal>();
        services.AddHostedService<OutboxDispatcher>();
        return builder;
    }

    /// <summary>The VideoJob saga, persisted in PostgreSQL, and the owner of every job's files.</summary>
    public static void AddIngestMessaging(this IBusRegistrationConfigurator bus)
    {
        bus.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>(typeof(VideoJobSagaDefinition)).PostgresRepository();
        bus.AddConsumer<JobFiles>().Endpoint(e => e.Name = JobFiles.Queue);
        bus.AddQuorumQueues(VideoJobSagaDefinition.Queue, JobFiles.Queue);
    }
}
