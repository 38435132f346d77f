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
    private readonly AttemptPulse _pulse;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _fired = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task _watching;

    public AttemptWatchdog(ProgressOutbox outbox, StageHeartbeat beat, WatchLimits limits, ILogger logger,
        CancellationToken attemptToken, TimeProvider? clock = null)
    {
        (_outbox, _beat, _logger, _clock) = (outbox, beat, logger, clock ?? TimeProvider.System);
        _pulse = new AttemptPulse(limits, beat.Stage, _clock.GetUtcNow());
        _stop = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
        _watching = WatchAsync(limits.CheckPeriod, _stop.Token);
    }

    /// <summary>Fires when the attempt stopped advancing or ran out of time.</summary>
    public CancellationToken Token => _fired.Token;

    /// <summary>Why the watchdog stopped the attempt, or null while it has not.</summary>
    public string? Verdict { get; private set; }

    /// <summary>The work moved forward.</summary>
    public void Advanced() => _pulse.Advanced(_clock.GetUtcNow());

    private async Task WatchAsync(TimeSpan checkPeriod, CancellationToken ct)
    {
        try
        {
            // The first beat says the attempt has been taken from its queue; the saga times a started attempt by its heartbeats.
            Beat();
            using var timer = new PeriodicTimer(checkPeriod, _clock);
            while (await timer.WaitForNextTickAsync(ct))
            {
                var (beat, stop) = _pulse.Check(_clock.GetUtcNow());
                if (stop is not null)
                {
                    Fire(stop);
                    return;
                }
                if (beat) Beat();
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

/// <summary>
/// The rules of one attempt's liveness, apart from timers: beat once per heartbeat interval if the work advanced
/// since the last beat; stop it when it has been silent for the silence timeout or is past its deadline.
/// </summary>
public sealed class AttemptPulse(WatchLimits limits, string stage, DateTimeOffset started)
{
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _started = started;
    private DateTimeOffset _lastAdvance = started;
    private DateTimeOffset _lastBeat = started;
    private bool _advancedSinceBeat;

    public void Advanced(DateTimeOffset now)
    {
        lock (_gate) (_lastAdvance, _advancedSinceBeat) = (now, true);
    }

    /// <summary>Whether to beat now, and why to stop the attempt (null: keep going).</summary>
    public (bool Beat, string? Stop) Check(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (now - _started >= limits.Deadline)
                return (false, $"{stage} ran past its deadline of {limits.Deadline.TotalSeconds:0} s ({limits.DeadlineRule})");
            if (now - _lastAdvance >= limits.SilenceTimeout)
                return (false, $"ffmpeg made no progress for {limits.SilenceTimeout.TotalSeconds:0.#} s");
            if (now - _lastBeat < limits.HeartbeatInterval || !(_advancedSinceBeat || limits.BeatsWhileSilent)) return (false, null);
            (_lastBeat, _advancedSinceBeat) = (now, false);
            return (true, null);
        }
    }
}

/// <summary>When an attempt beats, and when its watchdog stops it.</summary>
public sealed record WatchLimits(TimeSpan HeartbeatInterval, TimeSpan SilenceTimeout, TimeSpan Deadline, string DeadlineRule,
    bool BeatsWhileSilent = false)
{
    /// <summary>A stage's attempt: silence after <c>SilenceTimeout</c>; deadline <c>DeadlineFactor</c> × the media's duration + <c>DeadlineFloor</c>.</summary>
    public static WatchLimits For(StageWorkOptions options, double mediaSeconds) => new(options.HeartbeatInterval, options.SilenceTimeout,
        options.DeadlineFloor + TimeSpan.FromSeconds(Math.Max(0, mediaSeconds) * options.DeadlineFactor),
        $"{options.DeadlineFactor:0.#}× the media's duration + {options.DeadlineFloor.TotalSeconds:0} s");

    /// <summary>
    /// Work that beats for as long as it runs and is never stopped by the watchdog: an upload, whose node is the request
    /// itself (a paused client is judged by the HTTP server's limits, not by the saga's stall sweep).
    /// </summary>
    public static WatchLimits WhileAlive(TimeSpan heartbeatInterval) =>
        new(heartbeatInterval, TimeSpan.MaxValue, TimeSpan.MaxValue, "none", BeatsWhileSilent: true);

    /// <summary>Often enough to notice silence within a quarter of its timeout and to beat on time.</summary>
    public TimeSpan CheckPeriod => TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks,
        Math.Min(HeartbeatInterval.Ticks, SilenceTimeout.Ticks / 4)));
}
