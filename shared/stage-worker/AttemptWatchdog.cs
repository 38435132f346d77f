using Microsoft.Extensions.Logging;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// Watches one attempt of a stage. An attempt is alive while its work advances (its ffmpeg's progress, reported
/// through <see cref="StageProgress"/>): only then does it tell the saga so with a heartbeat, so a frozen ffmpeg
/// stops beating and the saga's stall sweep can take the job back. If nothing advances for
/// <c>StageWork:SilenceTimeout</c>, or the attempt runs past its deadline, <see cref="Token"/> fires (which kills
/// ffmpeg) and <see cref="Verdict"/> says why; the attempt then fails as transient.
/// </summary>
public sealed class AttemptWatchdog : IAsyncDisposable
{
    private readonly ProgressOutbox _outbox;
    private readonly StageHeartbeat _beat;
    private readonly WatchLimits _limits;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _fired = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task _watching;
    private readonly DateTimeOffset _started;
    private long _lastAdvanceTicks;
    private int _advancedSinceBeat;

    public AttemptWatchdog(ProgressOutbox outbox, StageHeartbeat beat, WatchLimits limits, ILogger logger,
        CancellationToken attemptToken, TimeProvider? clock = null)
    {
        (_outbox, _beat, _limits, _logger, _clock) = (outbox, beat, limits, logger, clock ?? TimeProvider.System);
        _started = _clock.GetUtcNow();
        _lastAdvanceTicks = _started.UtcTicks;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
        _watching = WatchAsync(_stop.Token);
    }

    /// <summary>Fires when the attempt stopped advancing or ran out of time.</summary>
    public CancellationToken Token => _fired.Token;

    /// <summary>Why the watchdog stopped the attempt, or null while it has not.</summary>
    public string? Verdict { get; private set; }

    /// <summary>The work moved forward.</summary>
    public void Advanced()
    {
        Interlocked.Exchange(ref _lastAdvanceTicks, _clock.GetUtcNow().UtcTicks);
        Interlocked.Exchange(ref _advancedSinceBeat, 1);
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        try
        {
            // The first beat says the attempt has been taken from its queue; the saga times a started attempt by its heartbeats.
            Beat();
            var lastBeat = _clock.GetUtcNow();
            using var timer = new PeriodicTimer(_limits.CheckPeriod, _clock);
            while (await timer.WaitForNextTickAsync(ct))
            {
                var now = _clock.GetUtcNow();
                var silent = now - new DateTimeOffset(Interlocked.Read(ref _lastAdvanceTicks), TimeSpan.Zero);
                if (now - _started >= _limits.Deadline)
                {
                    Fire($"{_beat.Stage} ran past its deadline of {_limits.Deadline.TotalSeconds:0} s ({_limits.DeadlineRule})");
                    return;
                }
                if (silent >= _limits.SilenceTimeout)
                {
                    Fire($"ffmpeg made no progress for {_limits.SilenceTimeout.TotalSeconds:0.#} s");
                    return;
                }
                if (now - lastBeat >= _limits.HeartbeatInterval && Interlocked.Exchange(ref _advancedSinceBeat, 0) == 1)
                {
                    Beat();
                    lastBeat = now;
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Beat() => _outbox.Post(_beat with { Timestamp = _clock.GetUtcNow() });

    private void Fire(string verdict)
    {
        Verdict = verdict;
        _logger.LogWarning("Job {JobId} {Stage} attempt {Attempt}: {Verdict}; stopping it", _beat.JobId, _beat.Stage, _beat.Attempt, verdict);
        _fired.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
        _fired.Dispose();
    }
}

/// <summary>When an attempt beats, and when its watchdog stops it.</summary>
public sealed record WatchLimits(TimeSpan HeartbeatInterval, TimeSpan SilenceTimeout, TimeSpan Deadline, string DeadlineRule)
{
    /// <summary>A stage's attempt: silence after <c>SilenceTimeout</c>; deadline <c>DeadlineFactor</c> × the media's duration + <c>DeadlineFloor</c>.</summary>
    public static WatchLimits For(StageWorkOptions options, double mediaSeconds) => new(options.HeartbeatInterval, options.SilenceTimeout,
        options.DeadlineFloor + TimeSpan.FromSeconds(Math.Max(0, mediaSeconds) * options.DeadlineFactor),
        $"{options.DeadlineFactor:0.#}× the media's duration + {options.DeadlineFloor.TotalSeconds:0} s");

    /// <summary>Work that beats while it advances and is never stopped by the watchdog (an upload: the client sets its pace).</summary>
    public static WatchLimits HeartbeatsOnly(TimeSpan heartbeatInterval) =>
        new(heartbeatInterval, TimeSpan.MaxValue, TimeSpan.MaxValue, "none");

    /// <summary>Often enough to notice silence within a quarter of its timeout and to beat on time.</summary>
    public TimeSpan CheckPeriod => TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks,
        Math.Min(HeartbeatInterval.Ticks, SilenceTimeout.Ticks / 4)));
}
