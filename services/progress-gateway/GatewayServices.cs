using Vidline.ServiceDefaults;
using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway;

public static class GatewayServices
{
    /// <summary>Options, the event store, the live fan-out and the background services around them.</summary>
    public static IHostApplicationBuilder AddProgressGateway(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<SseOptions>(builder.Configuration.GetSection("Sse"));

        services.AddOutageAnswers(GatewayOutages.ReasonFor);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayStats>();
        services.AddSingleton<CommitSignal>();
        services.AddSingleton<EventLog>();
        services.AddSingleton<EventHistory>();
        services.AddSingleton<JobQueries>();
        services.AddSingleton<LiveFeed>();
        services.AddSingleton<StreamOpenings>();
        services.AddSingleton<EventStreams>();

        // Singletons first, so tests and endpoints can reach the same instances the host runs.
        services.AddSingleton<EventTailer>();
        services.AddHostedService(sp => sp.GetRequiredService<EventTailer>());
        return builder;
    }
}
