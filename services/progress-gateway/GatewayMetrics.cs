using System.Diagnostics.Metrics;

namespace Vidline.ProgressGateway;

/// <summary>What the gateway measures (scraped on its <c>/metrics</c>).</summary>
public static class GatewayMetrics
{
    private static readonly Meter Meter = new("Vidline.ProgressGateway");

    public static readonly Counter<long> JobStatusChanges = Meter.CreateCounter<long>("vidline.jobs.status_changes",
        description: "Job status snapshots received from the saga, by status (pending, processing, completed, failed, cancelled, ...).");

    public static readonly Counter<long> EventsStored = Meter.CreateCounter<long>("vidline.progress.events_stored",
        description: "Progress, stage, warning and done events stored (rate() gives events stored per second).");

    public static readonly UpDownCounter<long> SseClients = Meter.CreateUpDownCounter<long>("vidline.sse.clients",
        description: "Connected Server-Sent Events clients of this instance, by stream kind (job: one job's stream, all: /progress/stream).");

    public static readonly Histogram<long> ReplaySize = Meter.CreateHistogram("vidline.sse.replay_size", "{event}",
        "Events replayed from the database to a (re)connecting client before it went live, by stream kind.",
        tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 1, 10, 50, 100, 500, 1000, 5000, 10000] });

    public static KeyValuePair<string, object?> StreamTag(string scope) => new("stream", scope);
}
