using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// What a stage tells the world while it works (progress, warnings, heartbeats) goes through this buffer, so a broker
/// that is down or restarting never costs the stage its work: posting never blocks or throws, and a sender loop
/// delivers when the broker answers. Messages go out in the order they were posted. The buffer stays small by keeping
/// only what still matters: a routine progress report waiting to be sent is replaced by the job's next one (a newer
/// figure makes it old news), while the reports that mark a step (forced: a stage starts, ends) and every warning are
/// kept, up to a bound; of heartbeats only each job's newest waits.
/// </summary>
public sealed class ProgressOutbox(IPublishEndpoint publisher, ILogger<ProgressOutbox> logger, TimeProvider? clock = null) : BackgroundService
{
    /// <summary>Step reports and warnings are a handful per job; this many pending means the broker is long gone.</summary>
    public const int KeptLimit = 1000;

    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly LinkedList<object> _queue = new();
    private readonly Dictionary<Guid, LinkedListNode<object>> _routine = new();
    private readonly Dictionary<Guid, StageHeartbeat> _beats = new();
    private readonly SemaphoreSlim _posted = new(0);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private int _kept;
    private int _dropped;

    /// <summary>Messages waiting for the broker.</summary>
    public int Pending { get { lock (_gate) return _queue.Count + _beats.Count; } }

    /// <summary>A progress report; <paramref name="routine"/> ones may be replaced by the job's next report while they wait.</summary>
    public void Post(ProgressReported progress, bool routine = true)
    {
        lock (_gate)
        {
            if (_routine.Remove(progress.JobId, out var older)) _queue.Remove(older);
            if (routine) _routine[progress.JobId] = _queue.AddLast(progress);
            else Keep(progress);
        }
        Wake();
    }

    public void Post(StageHeartbeat beat)
    {
        lock (_gate) _beats[beat.JobId] = beat;
        Wake();
    }

    public void Post(WarningReported warning)
    {
        lock (_gate) Keep(warning);
        Wake();
    }

    private void Keep(object message)
    {
        if (_kept >= KeptLimit)
        {
            _dropped++;
            return;
        }
        _kept++;
        _queue.AddLast(message);
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
            ReportDropped();
            while (Next() is { } next)
            {
                var message = next is LinkedListNode<object> node ? node.Value : next;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(SendTimeout);
                await publisher.Publish(message, message.GetType(), timeout.Token);
                Sent(next);
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
            if (_queue.First is { } first) return first;
            return _beats.Count > 0 ? _beats.Values.First() : null;
        }
    }

    /// <summary>Forgets a sent message, unless it was replaced meanwhile.</summary>
    private void Sent(object message)
    {
        lock (_gate)
        {
            switch (message)
            {
                case LinkedListNode<object> node when node.List is not null:
                    _queue.Remove(node);
                    if (node.Value is ProgressReported p && _routine.TryGetValue(p.JobId, out var routine) && routine == node) _routine.Remove(p.JobId);
                    else _kept--;
                    break;
                case StageHeartbeat b when _beats.TryGetValue(b.JobId, out var current) && ReferenceEquals(current, b):
                    _beats.Remove(b.JobId);
                    break;
            }
        }
    }

    private void ReportDropped()
    {
        int dropped;
        lock (_gate) (dropped, _dropped) = (_dropped, 0);
        if (dropped > 0) logger.LogWarning("{Count} warnings and step reports were dropped while the broker was unreachable (at most {Limit} wait)",
            dropped, KeptLimit);
    }
}
