using MassTransit;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// Publishes a stage's <see cref="ProgressReported"/> for one run of a job, at most once per <c>minInterval</c>
/// (ffmpeg reports many times a second; browsers need about two updates a second).
/// The first and the final report always go out.
/// </summary>
public sealed class StageProgress(IPublishEndpoint publisher, Guid jobId, int run, string stage, TimeSpan minInterval, TimeProvider? clock = null,
    string? node = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new(); // parallel work (the validator's renditions) reports from several threads
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;
    private double _lastProgress = -1;

    public async Task ReportAsync(double progress, string message, ProgressDetails? details = null, bool force = false,
        CancellationToken cancellationToken = default)
    {
        // Every ffmpeg report counts for the metric, not just the ones that pass the throttle.
        if (details?.Speed is { } speed) StageMetrics.FfmpegSpeed.Record(speed, StageMetrics.StageTag(stage));
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            if (!force && (now - _lastSent < minInterval || progress < _lastProgress)) return;
            _lastSent = now;
            _lastProgress = Math.Max(_lastProgress, progress);
        }
        await publisher.Publish(new ProgressReported(NewId.NextGuid(), jobId, run, stage, Math.Round(Math.Clamp(progress, 0, 100), 2),
            message, now, details, node), cancellationToken);
    }

    public Task WarnAsync(string message, CancellationToken cancellationToken = default) =>
        publisher.Publish(new WarningReported(NewId.NextGuid(), jobId, run, stage, message, _clock.GetUtcNow()), cancellationToken);
}
