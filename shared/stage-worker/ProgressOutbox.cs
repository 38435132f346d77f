using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// What a stage tells the world while it works (progress, warnings, heartbeats) goes through this buffer, so a broker
/// that is down or restarting never costs the stage its work: posting never blocks or throws, and a sender loop
/// delivers when the broker answers. The buffer stays small by keeping only what still matters: the newest progress
/// and the newest heartbeat of each job (a newer one makes the older news) and every warning, up to a bound.
/// </summary>
public sealed class ProgressOutbox(IPublishEndpoint publisher, ILogger<ProgressOutbox> logger, TimeProvider? clock = null) : BackgroundService
{
    /// <summary>Warnings are few per job (a handful per source); this many pending means the broker is long gone.</summary>
    public const int WarningLimit = 1000;

    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly Queue<WarningReported> _warnings = new();
    private readonly Dictionary<Guid, ProgressReported> _progress = new();
    private readonly Dictionary<Guid, StageHeartbeat> _beats = new();
    private readonly SemaphoreSlim _posted = new(0);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private int _droppedWarnings;

    /// <summary>Messages waiting for the broker.</summary>
    public int Pending { get { lock (_gate) return _warnings.Count + _progress.Count + _beats.Count; } }

    public void Post(ProgressReported progress)
    {
        lock (_gate) _progress[progress.JobId] = progress;
        Wake();
    }

    public void Post(StageHeartbeat beat)
    {
        lock (_gate) _beats[beat.JobId] = beat;
        Wake();
    }

    public void Post(WarningReported warning)
    {
        lock (_gate)
        {
            if (_warnings.Count < WarningLimit) _warnings.Enqueue(warning);
            else _droppedWarnings++;
        }
        Wake();
    }

    private void Wake()
    {
        // One pending wake-up is enough: a round sends everything that is waiting.
        if (_posted.CurrentCount == 0) _posted.Release();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (backoff == TimeSpan.Zero) await _posted.WaitAsync(stoppingToken);
                else await Task.Delay(backoff, _clock, stoppingToken);
                await SendPendingAsync(stoppingToken);
                if (backoff > TimeSpan.Zero) logger.LogInformation("Progress is reaching the broker again");
                backoff = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (backoff == TimeSpan.Zero)
                    logger.LogWarning("The broker does not take progress ({Error}); {Pending} messages wait and will be sent when it does",
                        e.Message, Pending);
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>Sends everything pending, oldest kind first; a failure leaves the unsent messages in place and throws.</summary>
    public async Task SendPendingAsync(CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            ReportDroppedWarnings();
            while (Next() is { } message)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(SendTimeout);
                await publisher.Publish(message, message.GetType(), timeout.Token);
                Sent(message);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// Sends what is pending now, if the broker takes it: a stage calls this before its answer, so its last progress
    /// reaches the gateway ahead of the next stage's. A broker that does not answer leaves it to the sender loop.
    /// </summary>
    public async Task TrySendPendingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendPendingAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Pending progress stays buffered: {Error}", e.Message);
        }
    }

    private object? Next()
    {
        lock (_gate)
        {
            if (_warnings.TryPeek(out var warning)) return warning;
            if (_progress.Count > 0) return _progress.Values.First();
            return _beats.Count > 0 ? _beats.Values.First() : null;
        }
    }

    /// <summary>Forgets a sent message, unless a newer one for its job arrived meanwhile.</summary>
    private void Sent(object message)
    {
        lock (_gate)
        {
            switch (message)
            {
                case WarningReported: _warnings.Dequeue(); break;
                case ProgressReported p when _progress.TryGetValue(p.JobId, out var current) && ReferenceEquals(current, p):
                    _progress.Remove(p.JobId); break;
                case StageHeartbeat b when _beats.TryGetValue(b.JobId, out var current) && ReferenceEquals(current, b):
                    _beats.Remove(b.JobId); break;
            }
        }
    }

    private void ReportDroppedWarnings()
    {
        int dropped;
        lock (_gate) (dropped, _droppedWarnings) = (_droppedWarnings, 0);
        if (dropped > 0) logger.LogWarning("{Count} warnings were dropped while the broker was unreachable (at most {Limit} wait)", dropped, WarningLimit);
    }
}
