using System.Diagnostics.Metrics;

namespace Vidline.StageWorker;

/// <summary>What the stage services measure (scraped on each service's <c>/metrics</c>).</summary>
public static class StageMetrics
{
    private static readonly Meter Meter = new("Vidline.StageWorker");

    /// <summary>Seconds-scale buckets: a stage takes from a fraction of a second to an hour.</summary>
    private static readonly InstrumentAdvice<double> StageSeconds = new()
    {
        HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    };

    public static readonly Histogram<double> Duration = Meter.CreateHistogram("vidline.stage.duration", "s",
        "Time one attempt of a stage took, by stage and outcome (completed, cancelled, failed, permanent_failure, retried, stopped: by its watchdog, interrupted: the node was stopping).",
        tags: null, advice: StageSeconds);

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram("vidline.stage.queue_wait", "s",
        "Time a stage command waited in its queue before a node took it, by stage.", tags: null, advice: StageSeconds);

    public static readonly Histogram<double> FfmpegSpeed = Meter.CreateHistogram("vidline.ffmpeg.speed", null,
        "ffmpeg's speed (media seconds per wall-clock second) as reported in progress, by stage.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64] });

    public static KeyValuePair<string, object?> StageTag(string stage) => new("stage", stage);
}
