using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Vidline.StageWorker;

public static class StageWorkerRegistration
{
    /// <summary>What every stage service registers besides its own consumers.</summary>
    public static IHostApplicationBuilder AddStageWorker(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("StageWork");
        builder.Services.Configure<StageWorkOptions>(section);
        builder.Services.AddStageRuntime();

        // Stopping (SIGTERM): MassTransit stops taking messages and, after a second's grace, cancels the running
        // consumers' tokens, which kills their ffmpeg; the consumer rethrows and the unacknowledged message returns
        // to the queue. The whole stop fits in StageWork:StopTimeout, which the scripts wait for before SIGKILL.
        var stop = (section.Get<StageWorkOptions>() ?? new()).StopTimeout;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = stop);
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            o.ConsumerStopTimeout = TimeSpan.FromSeconds(1);
            o.StopTimeout = stop;
        });
        return builder;
    }

    /// <summary>What a stage consumer runs on (running jobs, finished attempts, the progress outbox), without host settings.</summary>
    public static IServiceCollection AddStageRuntime(this IServiceCollection services) =>
        services.AddSingleton<RunningJobs>().AddSingleton<StageRuntime>().AddSingleton<CompletedAttempts>().AddProgressOutbox();

    /// <summary>The buffer progress, warnings and heartbeats go through to the broker (a stage service, or the upload).</summary>
    public static IServiceCollection AddProgressOutbox(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ProgressOutbox(sp.GetRequiredService<IBus>(), sp.GetRequiredService<ILogger<ProgressOutbox>>()));
        return services.AddHostedService(sp => sp.GetRequiredService<ProgressOutbox>());
    }

    /// <summary>The fan-out endpoint for <c>JobCancelled</c>: one temporary queue per process.</summary>
    public static void AddCancellationListener(this IBusRegistrationConfigurator bus, string service) =>
        bus.AddConsumer<StopCancelledJob>().Endpoint(e =>
        {
            e.Name = $"{service}-cancellations-{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();
            e.Temporary = true;
        });
}
