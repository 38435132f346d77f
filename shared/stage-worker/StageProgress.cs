using MassTransit;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// Reports a stage's <see cref="ProgressReported"/> for one run of a job, at most once per <c>minInterval</c>
/// (ffmpeg reports many times a second; browsers need about two updates a second). The first and the final
/// report always go out. Reports go through the <see cref="ProgressOutbox"/>, so they never fail the work.
/// Every report that moves the stage forward (or is forced: a step of the stage begins) counts as the attempt
/// advancing, for its watchdog and heartbeats.
/// </summary>
public sealed class StageProgress(ProgressOutbox outbox, Guid jobId, int run, string stage, TimeSpan minInterval, TimeProvider? clock = null,
    string? node = null, Action? onAdvance = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new(); // parallel work (the validator's renditions) reports from several threads
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;
    private double _lastProgress = -1;
    private double _best = -1;

    public Task ReportAsync(double progress, string message, ProgressDetails? details = null, bool force = false,
        CancellationToken cancellationToken = default)
    {
        // Every ffmpeg report counts for the metric, not just the ones that pass the throttle.
        if (details?.Speed is { } speed) StageMetrics.FfmpegSpeed.Record(speed, StageMetrics.StageTag(stage));
        var now = _clock.GetUtcNow();
        lock (_gate)
        {
            if (force || progress > _best)
            {
                _best = Math.Max(_best, progress);
                onAdvance?.Invoke();
            }
            if (!force && (now - _lastSent < minInterval || progress < _lastProgress)) return Task.CompletedTask;
            _lastSent = now;
            _lastProgress = Math.Max(_lastProgress, progress);
            // Posted under the lock, so the outbox keeps the report that came last as the newest.
            outbox.Post(new ProgressReported(NewId.NextGuid(), jobId, run, stage, Math.Round(Math.Clamp(progress, 0, 100), 2),
                message, now, details, node), routine: !force);
        }
        return Task.CompletedTask;
    }

    /// <summary>The work moved forward where no figure can be given (ffmpeg's output time advanced): the attempt is alive.</summary>
    public void Advancing() => onAdvance?.Invoke();

    public Task WarnAsync(string message, CancellationToken cancellationToken = default)
    {
        outbox.Post(new WarningReported(NewId.NextGuid(), jobId, run, stage, message, _clock.GetUtcNow()));
        return Task.CompletedTask;
    }
}
