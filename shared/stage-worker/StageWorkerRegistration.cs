using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vidline.StageWorker;

public static class StageWorkerRegistration
{
    /// <summary>What every stage service registers besides its own consumers.</summary>
    public static IHostApplicationBuilder AddStageWorker(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<StageWorkOptions>(builder.Configuration.GetSection("StageWork"));
        builder.Services.AddSingleton<RunningJobs>();
        builder.Services.AddSingleton<StageRuntime>();
        return builder;
    }

    /// <summary>The fan-out endpoint for <c>JobCancelled</c>: one temporary queue per process.</summary>
    public static void AddCancellationListener(this IBusRegistrationConfigurator bus, string service) =>
        bus.AddConsumer<StopCancelledJob>().Endpoint(e =>
        {
            e.Name = $"{service}-cancellations-{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();
            e.Temporary = true;
        });
}
